import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { ToolCard } from "../../api/types";
import { ToolCallCard } from "./ToolCards";

const base: ToolCard = { id: "call_0", round: 1, name: "everything__echo", arguments: { message: "hi" }, at: 0, status: "running" };
const html = (c: ToolCard, answer = true) => renderToStaticMarkup(<ToolCallCard card={c} onAnswer={answer ? () => {} : undefined} />);
const text = (h: string) => h.replace(/<[^>]+>/g, " ").replace(/&quot;/g, '"').replace(/\s+/g, " ").trim();

describe("tool cards", () => {
  it("show the server and tool, the arguments pretty-printed, and that it runs", () => {
    const h = html(base);
    expect(text(h)).toBe('everything · echo running… { "message": "hi" }');
    expect(h).toContain("{\n  &quot;message&quot;: &quot;hi&quot;\n}");
    expect(h).not.toContain("failed");
  });

  it("then the result, its status and how long it took", () => {
    const h = html({ ...base, status: "ok", content: "Echo: hi", is_error: false, ms: 12.5 });
    expect(text(h)).toBe('everything · echo ok 13 ms { "message": "hi" } Echo: hi');
    expect(h).toContain('class="badge ok"');
  });

  it("style errors, declined and cancelled calls as failed", () => {
    for (const status of ["error", "denied", "cancelled"] as const) {
      const h = html({ ...base, status, is_error: true, content: status === "denied" ? "The user declined this tool call." : "boom" });
      expect(h).toMatch(/class="tool-card \w+ failed"/);
      expect(h).toContain('class="tool-card-result error"');
    }
    expect(text(html({ ...base, status: "denied", is_error: true, content: "x", ms: 0 }))).not.toMatch(/\d ms/);
  });

  it("ask for approval with two buttons while the call waits, and not after", () => {
    const waiting: ToolCard = { ...base, status: "awaiting_approval", approval_id: "apr_1" };
    const h = html(waiting);
    expect(text(h)).toContain("Run this tool call? Approve Decline");
    expect(text(html({ ...waiting, decision: "approve" }))).toContain("Approving…");
    expect(text(html({ ...waiting, decision: "approve" }))).not.toContain("Decline");
    const done = html({ ...waiting, decision: "approve", status: "ok", content: "Echo: hi" });
    expect(text(done)).toContain("approved by you");
    expect(done).not.toContain("<button");
    // A saved chat has no one to answer: the buttons are there but disabled.
    expect(html(waiting, false)).toMatch(/<button[^>]*disabled/);
  });
});
