// Aliases: a name clients use, tried as an ordered list of targets (failover goes down the
// list). Targets are reordered by dragging (or from the keyboard: Space to lift, arrows to move,
// Space to drop) and saved with one PUT.

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
import { useEffect, useState } from "react";
import { createAlias, deleteAlias, invalidateConfig, putAlias, useAliases } from "../../api/config";
import { useModels } from "../../api/gateway";
import type { Alias } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ErrorBanner, errorMessage, fieldOf } from "../../components/ErrorBanner";
import { IconGrip } from "../../components/Icons";
import { useToast } from "../../components/Toast";

function SortableTarget({ id, index, onRemove, canRemove }: { id: string; index: number; onRemove: () => void; canRemove: boolean }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id });
  return (
    <li ref={setNodeRef} className={`sortable-item${isDragging ? " dragging" : ""}`} style={{ transform: CSS.Transform.toString(transform), transition }} data-testid="alias-target">
      <button type="button" className="btn sm ghost icon drag-handle" aria-label={`Move ${id} (position ${index + 1})`} {...attributes} {...listeners}>
        <IconGrip />
      </button>
      <span className="order">{index + 1}</span>
      <span className="mono" style={{ flex: 1, minWidth: 0, overflowWrap: "anywhere" }}>
        {id}
      </span>
      <button type="button" className="btn sm ghost" onClick={onRemove} disabled={!canRemove} aria-label={`Remove ${id}`}>
        Remove
      </button>
    </li>
  );
}

function AliasCard({ alias, targetsAvailable }: { alias: Alias; targetsAvailable: string[] }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [targets, setTargets] = useState(alias.targets);
  const [adding, setAdding] = useState("");
  const [confirm, setConfirm] = useState(false);
  useEffect(() => setTargets(alias.targets), [alias.targets]);
  const dirty = JSON.stringify(targets) !== JSON.stringify(alias.targets);
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const save = useMutation({
    mutationFn: () => putAlias(alias.name, targets),
    onSuccess: () => {
      toast(`Saved ${alias.name}: ${targets.join(" → ")}`);
      invalidateConfig(qc);
    },
  });
  const remove = useMutation({
    mutationFn: () => deleteAlias(alias.name),
    onSuccess: () => {
      setConfirm(false);
      invalidateConfig(qc);
    },
  });
  const onDragEnd = (e: DragEndEvent) => {
    if (e.over && e.active.id !== e.over.id) {
      const from = targets.indexOf(String(e.active.id));
      const to = targets.indexOf(String(e.over.id));
      setTargets(arrayMove(targets, from, to));
    }
  };
  const addable = targetsAvailable.filter((t) => !targets.includes(t));
  return (
    <section className="card" aria-labelledby={`alias-${alias.name}`} data-testid={`alias-${alias.name}`}>
      <div className="card-head">
        <h3 id={`alias-${alias.name}`} className="mono">
          {alias.name}
        </h3>
        <button type="button" className="btn sm danger" onClick={() => setConfirm(true)}>
          Delete
        </button>
      </div>
      <p className="small muted">Tried in this order; the next one answers when one fails.</p>
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
        <SortableContext items={targets} strategy={verticalListSortingStrategy}>
          <ol className="sortable-list">
            {targets.map((t, i) => (
              <SortableTarget key={t} id={t} index={i} canRemove={targets.length > 1} onRemove={() => setTargets(targets.filter((x) => x !== t))} />
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
            setTargets([...targets, adding]);
            setAdding("");
          }}
        >
          Add
        </button>
      </div>
      {(dirty || save.error) && (
        <div className="row" style={{ marginTop: 10 }}>
          <button type="button" className="btn primary sm" onClick={() => save.mutate()} disabled={save.isPending || !dirty}>
            Save order
          </button>
          <button type="button" className="btn sm" onClick={() => setTargets(alias.targets)} disabled={!dirty}>
            Undo
          </button>
          {save.error && <span className="small" style={{ color: "var(--danger)" }}>{errorMessage(save.error)}</span>}
        </div>
      )}
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

export function Aliases() {
  const aliases = useAliases();
  const models = useModels();
  const qc = useQueryClient();
  const targets = (models.data ?? []).filter((m) => !m.targets && !m.assistant).map((m) => m.id);
  const [name, setName] = useState("");
  const [first, setFirst] = useState("");
  const create = useMutation({
    mutationFn: () => createAlias({ name: name.trim(), targets: [first] }),
    onSuccess: () => {
      setName("");
      setFirst("");
      invalidateConfig(qc);
    },
  });
  const bad = fieldOf(create.error, ["name", "targets"]);
  return (
    <div className="stack">
      <div className="card">
        <h2>New alias</h2>
        <form
          className="row"
          style={{ alignItems: "flex-start" }}
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <input type="text" aria-label="Alias name" placeholder="name, e.g. smart" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={bad === "name"} style={{ maxWidth: 220 }} />
          <select aria-label="First target" value={first} onChange={(e) => setFirst(e.target.value)} aria-invalid={bad === "targets"} style={{ maxWidth: 320 }}>
            <option value="">first target…</option>
            {targets.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <button type="submit" className="btn primary" disabled={!name.trim() || !first || create.isPending}>
            Create
          </button>
        </form>
        {create.error && <div className="field-error small" style={{ color: "var(--danger)", marginTop: 6 }}>{errorMessage(create.error)}</div>}
      </div>
      <ErrorBanner error={aliases.error} />
      {aliases.data?.length === 0 && <p className="muted">No aliases yet. An alias gives clients one stable name with failover behind it.</p>}
      <div className="grid two">
        {aliases.data?.map((a) => (
          <AliasCard key={a.name} alias={a} targetsAvailable={targets} />
        ))}
      </div>
    </div>
  );
}
