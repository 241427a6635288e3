// The model picker: a button showing the current model and its capability badges, opening a
// searchable listbox grouped into assistants, aliases, pools (each with its kind, strategy and
// members) and each provider's models. Arrow keys move, Enter picks, Esc closes.

import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { ModelCard } from "../../api/types";
import { ModelBadges, routeTitle } from "../../components/ModelBadges";
import { groupModels, matchesQuery } from "./conversation";

export function ModelPicker({
  models,
  value,
  onChange,
}: {
  models: ModelCard[];
  value: string | null;
  onChange: (id: string) => void;
}) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const listId = useId();
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const current = models.find((m) => m.id === value);

  const groups = useMemo(() => groupModels(models.filter((m) => matchesQuery(m, query))), [models, query]);
  const flat = useMemo(() => groups.flatMap((g) => g.models), [groups]);

  useEffect(() => {
    if (!open) return;
    const i = flat.findIndex((m) => m.id === value);
    setActive(i >= 0 ? i : 0);
    // Reset the highlight only when opening or when the list changes.
  }, [open, flat, value]);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("mousedown", onDown);
    return () => document.removeEventListener("mousedown", onDown);
  }, [open]);

  useEffect(() => {
    if (open) document.getElementById(`${listId}-${active}`)?.scrollIntoView({ block: "nearest" });
  }, [active, open, listId]);

  const pick = (id: string) => {
    onChange(id);
    setOpen(false);
    setQuery("");
    button.current?.focus();
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((a) => Math.min(flat.length - 1, a + 1));
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((a) => Math.max(0, a - 1));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (flat[active]) pick(flat[active].id);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      button.current?.focus();
    }
  };

  let index = -1;
  return (
    <div className="model-picker" ref={root}>
      <button
        ref={button}
        type="button"
        className="btn"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-label={`Model: ${value ?? "none"}. Change model`}
        onClick={() => setOpen((o) => !o)}
        data-testid="model-picker"
      >
        <span className="mono" style={{ overflow: "hidden", textOverflow: "ellipsis" }}>
          {value ?? "Choose a model"}
        </span>
        {current && <ModelBadges model={current} />}
        <span aria-hidden="true">▾</span>
      </button>
      {open && (
        <div className="popover">
          <input
            type="search"
            autoFocus
            placeholder={`Search ${models.length} models`}
            aria-label="Search models"
            aria-controls={listId}
            aria-activedescendant={flat[active] ? `${listId}-${active}` : undefined}
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={onKey}
          />
          <ul className="model-list" role="listbox" id={listId} aria-label="Models">
            {flat.length === 0 && <li className="muted">No model matches “{query}”.</li>}
            {groups.map((g) => (
              <li key={g.group} role="presentation" style={{ padding: 0, cursor: "default" }}>
                <div className="group" role="presentation">
                  {g.group}
                </div>
                <ul role="group" aria-label={g.group} style={{ listStyle: "none", margin: 0, padding: 0 }}>
                  {g.models.map((m) => {
                    index += 1;
                    const i = index;
                    return (
                      <li
                        key={m.id}
                        id={`${listId}-${i}`}
                        role="option"
                        aria-selected={m.id === value}
                        className={i === active ? "active" : undefined}
                        onMouseEnter={() => setActive(i)}
                        onClick={() => pick(m.id)}
                      >
                        <span className="mono">{m.id}</span>
                        <span className="row">
                          <ModelBadges model={m} />
                          {m.targets && !m.assistant && (
                            <span className="small faint route-members" title={routeTitle(m, m.targets)}>
                              {m.targets.length} member{m.targets.length === 1 ? "" : "s"}: {m.targets.join(m.routing?.strategy === "ordered" || !m.routing ? " → " : ", ")}
                            </span>
                          )}
                          {m.assistant && <span className="small faint">{m.assistant.description || `on ${m.assistant.model}`}</span>}
                        </span>
                      </li>
                    );
                  })}
                </ul>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
