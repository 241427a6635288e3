// Saved chats: search, open, rename, delete.

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";
import { hasCode } from "../../api/client";
import { deleteSession, sessionKeys, updateSession, useSessions } from "../../api/sessions";
import type { SessionSummary } from "../../api/types";
import { ConfirmDelete } from "../../components/ConfirmDelete";
import { ErrorBanner } from "../../components/ErrorBanner";
import { IconPencil, IconTrash } from "../../components/Icons";
import { formatAgo } from "../../lib/format";

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

export function SessionList({ currentId, onNew, onClose }: { currentId: string | undefined; onNew: () => void; onClose: () => void }) {
  const [q, setQ] = useState("");
  const query = useDebounced(q, 250);
  const sessions = useSessions(query);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [renaming, setRenaming] = useState<{ id: string; title: string } | null>(null);
  const [deleting, setDeleting] = useState<SessionSummary | null>(null);

  const rename = useMutation({
    mutationFn: ({ id, title }: { id: string; title: string }) => updateSession(id, { title }),
    onSuccess: (s) => {
      qc.setQueryData(sessionKeys.one(s.id), s);
      void qc.invalidateQueries({ queryKey: sessionKeys.all });
      setRenaming(null);
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => deleteSession(id),
    onSuccess: (_, id) => {
      void qc.invalidateQueries({ queryKey: sessionKeys.all });
      qc.removeQueries({ queryKey: sessionKeys.one(id) });
      setDeleting(null);
      if (id === currentId) navigate("/playground");
    },
  });

  const noDb = hasCode(sessions.error, "no_database");

  return (
    <aside className="pg-sessions" aria-label="Saved chats">
      <div className="pg-sessions-head">
        <div className="row" style={{ flexWrap: "nowrap" }}>
          <button type="button" className="btn primary" style={{ flex: 1 }} onClick={onNew}>
            New chat
          </button>
          <button type="button" className="btn icon pg-toggle sessions" onClick={onClose} aria-label="Close the chat list">
            ×
          </button>
        </div>
        <input type="search" placeholder="Search chats" aria-label="Search chats" value={q} onChange={(e) => setQ(e.target.value)} />
      </div>
      {noDb ? (
        <p className="small muted" style={{ padding: 10 }}>
          This gateway runs without a database, so chats are not saved.
        </p>
      ) : (
        <ErrorBanner error={sessions.error} />
      )}
      <ul className="pg-session-list">
        {sessions.data?.length === 0 && (
          <li className="small muted" style={{ padding: 8 }}>
            {query ? `No chat mentions “${query}”.` : "Your chats will be listed here."}
          </li>
        )}
        {sessions.data?.map((s) =>
          renaming?.id === s.id ? (
            <li key={s.id} className="current">
              <form
                style={{ flex: 1, padding: 4 }}
                onSubmit={(e) => {
                  e.preventDefault();
                  if (renaming?.title.trim()) rename.mutate(renaming);
                }}
              >
                <input
                  type="text"
                  aria-label="Chat title"
                  autoFocus
                  value={renaming?.title ?? ""}
                  aria-invalid={!!rename.error}
                  onChange={(e) => setRenaming({ id: s.id, title: e.target.value })}
                  onKeyDown={(e) => {
                    if (e.key === "Escape") {
                      e.stopPropagation();
                      setRenaming(null);
                    }
                  }}
                  onBlur={() => {
                    if (renaming && renaming.title.trim() && renaming.title !== s.title) rename.mutate(renaming);
                    else setRenaming(null);
                  }}
                />
                {rename.error && <div className="small" style={{ color: "var(--danger)" }}>{rename.error.message}</div>}
              </form>
            </li>
          ) : (
            <li key={s.id} className={s.id === currentId ? "current" : undefined}>
              <Link to={`/playground/${encodeURIComponent(s.id)}`} aria-current={s.id === currentId ? "page" : undefined}>
                <span className="title">{s.title}</span>
                <span className="sub">
                  {s.model ?? "no model"} · {s.message_count} msg · {formatAgo(s.updated_at)}
                </span>
              </Link>
              <span className="actions">
                <button type="button" className="btn sm ghost icon" aria-label={`Rename ${s.title}`} title="Rename" onClick={() => setRenaming({ id: s.id, title: s.title })}>
                  <IconPencil />
                </button>
                <button type="button" className="btn sm ghost icon" aria-label={`Delete ${s.title}`} title="Delete" onClick={() => setDeleting(s)}>
                  <IconTrash />
                </button>
              </span>
            </li>
          ),
        )}
      </ul>
      {deleting && (
        <ConfirmDelete
          title="Delete this chat?"
          message={
            <>
              “{deleting.title}” and its {deleting.message_count} messages will be gone. The requests stay in the request log.
            </>
          }
          error={remove.error}
          pending={remove.isPending}
          onConfirm={() => remove.mutate(deleting.id)}
          onClose={() => setDeleting(null)}
        />
      )}
    </aside>
  );
}
