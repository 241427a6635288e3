import { ApiError, askForKey } from "../api/client";

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorBanner({ error, onRetry, title }: { error: unknown; onRetry?: () => void; title?: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.needsKey) {
    // The key prompt explains; here, only the way back to it.
    return (
      <div className="banner info" role="status">
        <div className="grow">This needs a key that the gateway accepts.</div>
        <button type="button" className="btn sm" onClick={() => askForKey(error)}>
          Enter a key
        </button>
      </div>
    );
  }
  return (
    <div className="banner error" role="alert">
      <div className="grow">
        {title && <strong>{title}: </strong>}
        {errorMessage(error)}
      </div>
      {onRetry && (
        <button type="button" className="btn sm" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** The field a refusal names (`param`), if it is one of `fields`. */
export function fieldOf(e: unknown, fields: string[]): string | null {
  if (!(e instanceof ApiError) || !e.param) return null;
  const p = e.param;
  return fields.find((f) => p === f || p.endsWith(`.${f}`) || p.startsWith(`${f}.`) || p.startsWith(`${f}[`)) ?? null;
}
