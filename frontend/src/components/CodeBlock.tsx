// Highlighted code for snippets and raw bodies: highlight.js core with the few languages the
// UI shows (the chat's markdown has its own, larger set, loaded with the markdown renderer).

import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import ini from "highlight.js/lib/languages/ini";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import yaml from "highlight.js/lib/languages/yaml";
import { useMemo } from "react";
import { CopyButton } from "./CopyButton";

hljs.registerLanguage("bash", bash);
hljs.registerLanguage("json", json);
hljs.registerLanguage("python", python);
hljs.registerLanguage("javascript", javascript);
hljs.registerLanguage("yaml", yaml);
hljs.registerLanguage("toml", ini);

const MAX_HIGHLIGHT = 200_000;

export function CodeBlock({
  code,
  language,
  title,
  scroll = false,
  copy = true,
}: {
  code: string;
  language?: string;
  title?: string;
  scroll?: boolean;
  copy?: boolean;
}) {
  const html = useMemo(() => {
    if (!language || !hljs.getLanguage(language) || code.length > MAX_HIGHLIGHT) return null;
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  }, [code, language]);
  return (
    <div className={`code${scroll ? " scroll" : ""}`}>
      {(title || copy) && (
        <div className="code-head">
          <span>{title ?? language ?? ""}</span>
          {copy && <CopyButton text={code} />}
        </div>
      )}
      <pre tabIndex={0}>
        {html !== null ? <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} /> : <code>{code}</code>}
      </pre>
    </div>
  );
}

export function JsonBlock({ value, title, scroll = true }: { value: unknown; title?: string; scroll?: boolean }) {
  const text = useMemo(() => (typeof value === "string" ? value : JSON.stringify(value, null, 2)), [value]);
  return <CodeBlock code={text} language={typeof value === "string" ? undefined : "json"} title={title} scroll={scroll} />;
}
