// An image from a logged body: inline data: URLs show as they are; `media:NAME` files are
// fetched from the gateway (with the key, if any) when it serves them.

import { useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { authHeaders } from "../../api/client";

export const mediaName = (ref: string) => (ref.startsWith("media:") ? ref.slice("media:".length) : ref);

function useMediaBlob(name: string | null) {
  return useQuery({
    queryKey: ["media", name],
    enabled: !!name,
    staleTime: Infinity,
    retry: false,
    queryFn: async ({ signal }) => {
      const res = await fetch(`/admin/media/${encodeURIComponent(name!)}`, { headers: authHeaders(), signal });
      if (!res.ok || !(res.headers.get("content-type") ?? "").startsWith("image/")) throw new Error(`${res.status}`);
      return res.blob();
    },
  });
}

export function MediaImage({ src, dataDir, size = 160 }: { src: string; dataDir?: string; size?: number }) {
  const inline = src.startsWith("data:") || src.startsWith("http:") || src.startsWith("https:");
  const name = inline ? null : mediaName(src);
  const blob = useMediaBlob(name);
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob.data) return;
    const u = URL.createObjectURL(blob.data);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob.data]);
  if (inline) return <img src={src} alt="Image from the request" style={{ maxWidth: size, maxHeight: size, borderRadius: 6 }} />;
  if (url)
    return (
      <figure style={{ margin: 0 }}>
        <img src={url} alt={name ?? ""} style={{ maxWidth: size, maxHeight: size, borderRadius: 6 }} />
        <figcaption className="small muted mono">{name}</figcaption>
      </figure>
    );
  return (
    <div className="small muted" style={{ border: "1px dashed var(--border-strong)", borderRadius: 6, padding: 8, maxWidth: 320 }}>
      <div className="mono">{name}</div>
      {blob.isError && (
        <div>
          Stored in the data folder{dataDir ? <> at <span className="mono">{`${dataDir}/media/${name}`}</span></> : ""}; it could not be loaded (it may have been removed with old requests).
        </div>
      )}
    </div>
  );
}
