// Where the user writes: Enter sends, Shift+Enter adds a line, Esc stops an answer. Images
// come by the attach button, by pasting or by dropping, as data: URLs (vision models only).

import { useRef, useState, type ClipboardEvent, type DragEvent } from "react";
import { IconPaperclip } from "../../components/Icons";
import { useToast } from "../../components/Toast";
import { formatBytes } from "../../lib/format";

const MAX_IMAGE_BYTES = 10 * 1024 * 1024;

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

export function Composer({
  onSend,
  onStop,
  streaming,
  disabled,
  disabledReason,
  vision,
  modelName,
}: {
  onSend: (text: string, images: string[]) => void;
  onStop: () => void;
  streaming: boolean;
  disabled: boolean;
  disabledReason?: string;
  vision: boolean;
  modelName: string | null;
}) {
  const [text, setText] = useState("");
  const [images, setImages] = useState<string[]>([]);
  const fileInput = useRef<HTMLInputElement>(null);
  const toast = useToast();

  const addFiles = async (files: File[]) => {
    const imgs = files.filter((f) => f.type.startsWith("image/"));
    if (!imgs.length) return false;
    if (!vision) {
      toast(`${modelName ?? "This model"} does not accept images; pick a model with the vision badge.`);
      return true;
    }
    for (const f of imgs) {
      if (f.size > MAX_IMAGE_BYTES) {
        toast(`${f.name || "The image"} is ${formatBytes(f.size)}; the limit here is ${formatBytes(MAX_IMAGE_BYTES)}.`);
        continue;
      }
      const url = await readAsDataUrl(f);
      setImages((list) => [...list, url]);
    }
    return true;
  };

  const send = () => {
    if (streaming || disabled) return;
    if (!text.trim() && images.length === 0) return;
    onSend(text, images);
    setText("");
    setImages([]);
  };

  const onPaste = (e: ClipboardEvent) => {
    const files = [...e.clipboardData.items].filter((i) => i.kind === "file").map((i) => i.getAsFile()).filter((f): f is File => !!f);
    if (files.some((f) => f.type.startsWith("image/"))) {
      e.preventDefault();
      void addFiles(files);
    }
  };

  const onDrop = (e: DragEvent) => {
    const files = [...e.dataTransfer.files];
    if (files.length) {
      e.preventDefault();
      void addFiles(files);
    }
  };

  return (
    <div className="composer" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <div className="composer-inner">
        {images.length > 0 && (
          <div className="attachments" aria-label="Attached images">
            {images.map((src, i) => (
              <div key={i} className="attachment">
                <img src={src} alt={`Attachment ${i + 1}`} />
                <button type="button" className="btn sm icon" aria-label={`Remove attachment ${i + 1}`} onClick={() => setImages((l) => l.filter((_, j) => j !== i))}>
                  ×
                </button>
              </div>
            ))}
          </div>
        )}
        <form
          className="row"
          style={{ flexWrap: "nowrap", alignItems: "flex-end" }}
          onSubmit={(e) => {
            e.preventDefault();
            send();
          }}
        >
          <textarea
            aria-label="Message"
            placeholder={disabled ? (disabledReason ?? "") : "Send a message (Enter to send, Shift+Enter for a new line)"}
            value={text}
            rows={Math.min(8, Math.max(1, text.split("\n").length))}
            onChange={(e) => setText(e.target.value)}
            onPaste={onPaste}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
                e.preventDefault();
                send();
              }
            }}
            disabled={disabled}
            data-testid="composer"
          />
          <input
            ref={fileInput}
            type="file"
            accept="image/*"
            multiple
            hidden
            onChange={(e) => {
              void addFiles([...(e.target.files ?? [])]);
              e.target.value = "";
            }}
          />
          <button
            type="button"
            className="btn icon"
            title={vision ? "Attach images (or paste them)" : `${modelName ?? "This model"} does not accept images`}
            aria-label="Attach images"
            disabled={!vision || disabled}
            onClick={() => fileInput.current?.click()}
          >
            <IconPaperclip />
          </button>
          {streaming ? (
            <button type="button" className="btn danger" onClick={onStop} title="Stop (Esc)">
              Stop
            </button>
          ) : (
            <button type="submit" className="btn primary" disabled={disabled || (!text.trim() && images.length === 0)}>
              Send
            </button>
          )}
        </form>
        <div className="composer-bar">
          <span>
            <kbd>Enter</kbd> send · <kbd>Shift</kbd>+<kbd>Enter</kbd> new line · <kbd>Esc</kbd> stop
            {vision ? " · paste or drop images" : ""}
          </span>
        </div>
      </div>
    </div>
  );
}
