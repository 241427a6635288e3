// The app's tables: they scroll sideways on a narrow screen instead of widening the page.

import type { ReactNode } from "react";

/** A column's heading; `num` right-aligns it, as the column's figures are. */
export type Column = string | { label: string; num: true };

/** A right-aligned heading, for a column of figures. */
export const num = (label: string): Column => ({ label, num: true });

/** `head`: the columns' headings (none: no header row); `children`: the body's rows. */
export function Table({ head, testId, children }: { head?: Column[]; testId?: string; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        {head && (
          <thead>
            <tr>
              {head.map((c, i) =>
                typeof c === "string" ? (
                  <th key={i}>{c}</th>
                ) : (
                  <th key={i} className="num">
                    {c.label}
                  </th>
                ),
              )}
            </tr>
          </thead>
        )}
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

const ONE_LINE = { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" } as const;

/** One line of a long text (an error, say), cut with an ellipsis; the whole of it in the tooltip. */
export function OneLine({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div title={title} style={ONE_LINE}>
      {children}
    </div>
  );
}
