// The "are you sure?" dialog before something is deleted, removed or revoked: what it means,
// the error if the last try failed, and "Keep it" or the action.

import type { ReactNode } from "react";
import { Dialog } from "./Dialog";
import { ErrorBanner } from "./ErrorBanner";

export function ConfirmDelete({
  title,
  message,
  error,
  pending,
  onConfirm,
  onClose,
  confirmLabel = "Delete",
}: {
  title: string;
  /** What deleting it does, in a sentence or two. */
  message: ReactNode;
  error: unknown;
  pending: boolean;
  onConfirm: () => void;
  onClose: () => void;
  confirmLabel?: string;
}) {
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{message}</p>
      <ErrorBanner error={error} />
      <div className="dialog-actions">
        <button type="button" className="btn" onClick={onClose}>
          Keep it
        </button>
        <button type="button" className="btn danger" onClick={onConfirm} disabled={pending}>
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
