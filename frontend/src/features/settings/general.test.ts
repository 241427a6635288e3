import { describe, expect, it } from "vitest";
import type { Settings } from "../../api/types";
import { joinListen, settingsChange, splitListen, toForm } from "./general";

const settings = {
  listen: "127.0.0.1:7137",
  log: { enabled: true, capture_bodies: true, max_body_bytes: 1048576, retention_days: 30, max_db_mb: 2048 },
  access: { require_key: false, keys_required: false, cors_origins: [], allowed_hosts: [] },
} as unknown as Settings;

describe("general settings", () => {
  it("splits and joins listen addresses, IPv6 in brackets", () => {
    expect(splitListen("127.0.0.1:7137")).toEqual({ host: "127.0.0.1", port: "7137" });
    expect(splitListen("[::1]:8080")).toEqual({ host: "::1", port: "8080" });
    expect(joinListen("::1", "8080")).toBe("[::1]:8080");
    expect(joinListen("localhost", "1")).toBe("localhost:1");
  });

  it("sends only what changed, shaped like the config file", () => {
    const before = toForm(settings);
    expect(before.maxBodyMiB).toBe("1");
    expect(settingsChange(before, before)).toEqual({});
    expect(settingsChange(before, { ...before, port: "7140", capture: false, retention: "7", maxBodyMiB: "2", requireKey: true })).toEqual({
      listen: "127.0.0.1:7140",
      log: { capture_bodies: false, retention_days: 7, max_body_bytes: 2 * 1048576 },
      access: { require_key: true },
    });
  });
});
