// Aliases: a name clients use, over a list of targets chosen by a strategy (ordered by default:
// failover goes down the list). Targets are reordered by dragging (or from the keyboard: Space
// to lift, arrows to move, Space to drop), weighted when the strategy is `weighted`, and saved
// with one PUT together with the strategy and the offline fallback. Below, the members as the
// next request would try them, with their live figures.

import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useSensor,
  useSensors,
  type DragEndEvent,
} from "@dnd-kit/core";
import { arrayMove, SortableContext, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { createAlias, deleteAlias } from "../../api/config";
import { invalidateRouting, saveAlias } from "../../api/routing";
import type { Alias, Fallback, RouteView, Strategy } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { errorMessage, fieldOf } from "../../components/ErrorBanner";
import { IconGrip } from "../../components/Icons";
import { useToast } from "../../components/Toast";
import { RouteMembers } from "./RouteMembers";
import { aliasChange, parseWeight, STRATEGIES, targetRows, weightProblem, type TargetRow } from "./routing";

function SortableTarget({
  row,
  index,
  weighted,
  onWeight,
  onRemove,
  canRemove,
}: {
  row: TargetRow;
  index: number;
  weighted: boolean;
  onWeight: (w: number) => void;
  onRemove: () => void;
  canRemove: boolean;
}) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: row.id });
  const [text, setText] = useState(String(row.weight));
  useEffect(() => setText(String(row.weight)), [row.weight]);
  const bad = parseWeight(text) === null;
  return (
    <li ref={setNodeRef} className={`sortable-item${isDragging ? " dragging" : ""}`} style={{ transform: CSS.Transform.toString(transform), transition }} data-testid="alias-target">
      <button type="button" className="btn sm ghost icon drag-handle" aria-label={`Move ${row.id} (position ${index + 1})`} {...attributes} {...listeners}>
        <IconGrip />
      </button>
      <span className="order">{index + 1}</span>
      <span className="mono" style={{ flex: 1, minWidth: 0, overflowWrap: "anywhere" }}>
        {row.id}
      </span>
      {weighted && (
        <label className="weight" title="Share of first choices; 0 keeps it for failover only">
          <span className="small muted">weight</span>
          <input
            type="number"
            min={0}
            step={1}
            inputMode="numeric"
            aria-label={`Weight of ${row.id}`}
            aria-invalid={bad}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              const w = parseWeight(e.target.value);
              if (w !== null) onWeight(w);
            }}
          />
        </label>
      )}
      <button type="button" className="btn sm ghost" onClick={onRemove} disabled={!canRemove} aria-label={`Remove ${row.id}`}>
        Remove
      </button>
    </li>
  );
}

export function AliasCard({ alias, route, targetsAvailable }: { alias: Alias; route: RouteView | undefined; targetsAvailable: string[] }) {
  const qc = useQueryClient();
  const toast = useToast();
  const ids = useId();
  const [rows, setRows] = useState(() => targetRows(alias));
  const [strategy, setStrategy] = useState<Strategy>(alias.strategy);
  const [fallback, setFallback] = useState<Fallback>(alias.fallback);
  const [adding, setAdding] = useState("");
  const [confirm, setConfirm] = useState(false);
  const saved = JSON.stringify([targetRows(alias), alias.strategy, alias.fallback]);
  useEffect(() => {
    setRows(targetRows(alias));
    setStrategy(alias.strategy);
    setFallback(alias.fallback);
    // Reset to what the gateway has whenever that changes.
  }, [saved]);
  const dirty = JSON.stringify([rows, strategy, fallback]) !== saved;
  const problem = weightProblem(rows, strategy);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const save = useMutation({
    mutationFn: () => saveAlias(alias.name, aliasChange(rows, strategy, fallback)),
    onSuccess: () => {
      toast(`Saved ${alias.name}`);
      invalidateRouting(qc);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteAlias(alias.name),
    onSuccess: () => {
      setConfirm(false);
      invalidateRouting(qc);
    },
  });
  const onDragEnd = (e: DragEndEvent) => {
    if (e.over && e.active.id !== e.over.id) {
      const from = rows.findIndex((r) => r.id === String(e.active.id));
      const to = rows.findIndex((r) => r.id === String(e.over?.id));
      setRows(arrayMove(rows, from, to));
    }
  };
  const addable = targetsAvailable.filter((t) => !rows.some((r) => r.id === t));
  const hint = STRATEGIES.find((s) => s.id === strategy)?.hint;
  return (
    <section className="card route-card" aria-labelledby={`alias-${alias.name}`} data-testid={`alias-${alias.name}`}>
      <div className="card-head">
        <h3 id={`alias-${alias.name}`} className="mono">
          {alias.name}
        </h3>
        <span className="badge alias">alias</span>
        <button type="button" className="btn sm danger" onClick={() => setConfirm(true)}>
          Delete
        </button>
      </div>
      <div className="route-edit">
        <div className="row strategy-row">
          <label htmlFor={`${ids}-strategy`} className="small muted">
            Strategy
          </label>
          <select id={`${ids}-strategy`} aria-label={`Strategy of ${alias.name}`} value={strategy} onChange={(e) => setStrategy(e.target.value as Strategy)}>
            {STRATEGIES.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
          {hint && <span className="small faint">{hint}</span>}
        </div>
        <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
          <SortableContext items={rows.map((r) => r.id)} strategy={verticalListSortingStrategy}>
            <ol className="sortable-list">
              {rows.map((r, i) => (
                <SortableTarget
                  key={r.id}
                  row={r}
                  index={i}
                  weighted={strategy === "weighted"}
                  canRemove={rows.length > 1}
                  onWeight={(w) => setRows(rows.map((x) => (x.id === r.id ? { ...x, weight: w } : x)))}
                  onRemove={() => setRows(rows.filter((x) => x.id !== r.id))}
                />
              ))}
            </ol>
          </SortableContext>
        </DndContext>
        <div className="row">
          <select aria-label={`Add a target to ${alias.name}`} value={adding} onChange={(e) => setAdding(e.target.value)} style={{ flex: 1, minWidth: 160 }}>
            <option value="">add a target…</option>
            {addable.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="btn sm"
            disabled={!adding}
            onClick={() => {
              setRows([...rows, { id: adding, weight: 1 }]);
              setAdding("");
            }}
          >
            Add
          </button>
        </div>
        <label className="check small" style={{ marginTop: 10 }}>
          <input type="checkbox" checked={fallback === "local"} onChange={(e) => setFallback(e.target.checked ? "local" : "none")} />
          Offline, fall back to a local model
        </label>
      </div>
      {(dirty || save.error) && (
        <div className="row" style={{ marginTop: 10 }}>
          <button type="button" className="btn primary sm" onClick={() => save.mutate()} disabled={save.isPending || !dirty || problem !== null}>
            Save
          </button>
          <button
            type="button"
            className="btn sm"
            onClick={() => {
              setRows(targetRows(alias));
              setStrategy(alias.strategy);
              setFallback(alias.fallback);
            }}
            disabled={!dirty}
          >
            Undo
          </button>
          {(problem || save.error) && (
            <span className="small" role="alert" style={{ color: "var(--danger)" }}>
              {problem ?? errorMessage(save.error)}
            </span>
          )}
        </div>
      )}
      <h4 className="route-live-head">Now</h4>
      <RouteMembers route={route} weighted={route?.strategy === "weighted"} />
      {confirm && (
        <ConfirmDelete
          title={`Delete the alias ${alias.name}?`}
          message={<>Clients that ask for “{alias.name}” will get a model-not-found error.</>}
          error={remove.error}
          pending={remove.isPending}
          onConfirm={() => remove.mutate()}
          onClose={() => setConfirm(false)}
        />
      )}
    </section>
  );
}

export function NewAlias({ targets }: { targets: string[] }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [first, setFirst] = useState("");
  const create = useMutation({
    mutationFn: () => createAlias({ name: name.trim(), targets: [first] }),
    onSuccess: () => {
      setName("");
      setFirst("");
      invalidateRouting(qc);
    },
  });
  const bad = fieldOf(create.error, ["name", "targets"]);
  return (
    <>
      <form
        className="row"
        style={{ alignItems: "flex-start" }}
        aria-label="New alias"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <input type="text" aria-label="Alias name" placeholder="name, e.g. fast" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={bad === "name"} style={{ maxWidth: 220 }} />
        <select aria-label="First target" value={first} onChange={(e) => setFirst(e.target.value)} aria-invalid={bad === "targets"} style={{ maxWidth: 320 }}>
          <option value="">first target…</option>
          {targets.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <button type="submit" className="btn primary" disabled={!name.trim() || !first || create.isPending}>
          Create alias
        </button>
      </form>
      {create.error && <div className="field-error small" style={{ color: "var(--danger)", marginTop: 6 }}>{errorMessage(create.error)}</div>}
    </>
  );
}
