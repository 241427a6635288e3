// Chat answers as markdown: GitHub-flavoured, code highlighted, each code block with a copy
// button. Loaded lazily (it brings the highlighter's grammars).

import { isValidElement, type ReactNode } from "react";
import ReactMarkdown from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import { CopyButton } from "./CopyButton";

function textOf(node: ReactNode): string {
  if (typeof node === "string" || typeof node === "number") return String(node);
  if (Array.isArray(node)) return node.map(textOf).join("");
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return "";
}

export default function Markdown({ text }: { text: string }) {
  return (
    <div className="md">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[[rehypeHighlight, { detect: false, ignoreMissing: true }]]}
        components={{
          pre({ children }) {
            const code = isValidElement<{ className?: string }>(children) ? children : null;
            const lang = /language-([\w-]+)/.exec(code?.props.className ?? "")?.[1];
            return (
              <div className="code">
                <div className="code-head">
                  <span>{lang ?? "code"}</span>
                  <CopyButton text={textOf(children).replace(/\n$/, "")} />
                </div>
                <pre tabIndex={0}>{children}</pre>
              </div>
            );
          },
          a({ href, children }) {
            return (
              <a href={href} target="_blank" rel="noreferrer noopener">
                {children}
              </a>
            );
          },
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
