import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { getKey, onAuthNeeded, setKey, type ApiError } from "../api/client";
import { Dialog } from "./Dialog";

/** Asks once for a key when the gateway refuses a call for want of one, and keeps it. */
export function KeyPrompt() {
  const qc = useQueryClient();
  const [reason, setReason] = useState<ApiError | null>(null);
  const [value, setValue] = useState("");
  useEffect(() => onAuthNeeded((e) => setReason((r) => r ?? e)), []);
  if (!reason) return null;
  const hadKey = !!getKey();
  const save = () => {
    setKey(value);
    setReason(null);
    setValue("");
    void qc.invalidateQueries();
  };
  return (
    <Dialog title={hadKey ? "That key was not accepted" : "This gateway needs a key"} onClose={() => setReason(null)}>
      <p className="muted">{reason.message}</p>
      <p className="muted small">
        Create an admin key with <code>switchyard keys create NAME --role admin</code>. It is kept in this browser's storage and sent as{" "}
        <code>Authorization: Bearer …</code>.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) save();
        }}
      >
        <div className="field">
          <label htmlFor="key-prompt">Key</label>
          <input id="key-prompt" type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} placeholder="sk-sy-…" />
        </div>
        <div className="dialog-actions">
          {hadKey && (
            <button
              type="button"
              className="btn ghost"
              onClick={() => {
                setKey(null);
                setReason(null);
              }}
            >
              Forget the saved key
            </button>
          )}
          <button type="button" className="btn" data-close onClick={() => setReason(null)}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={!value.trim()}>
            Use this key
          </button>
        </div>
      </form>
    </Dialog>
  );
}
