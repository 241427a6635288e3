// Settings: providers, models and their capabilities, routing (aliases and pools), MCP servers,
// assistants, client keys, and the gateway's own settings. Every change goes through the admin
// API, which writes the config file and applies it live.

import { Navigate, useNavigate, useParams } from "react-router";
import { useSettings } from "../../api/config";
import { Tabs } from "../../components/Tabs";
import { Assistants } from "./Assistants";
import { General } from "./General";
import { Keys } from "./Keys";
import { McpServers } from "./McpServers";
import { Models } from "./Models";
import { Providers } from "./Providers";
import { Routing } from "./Routing";

const TABS = [
  { id: "providers", label: "Providers" },
  { id: "models", label: "Models" },
  { id: "routing", label: "Routing" },
  { id: "mcp", label: "MCP servers" },
  { id: "assistants", label: "Assistants" },
  { id: "keys", label: "Client keys" },
  { id: "general", label: "General" },
] as const;
type TabId = (typeof TABS)[number]["id"];

export default function Settings() {
  const { tab } = useParams();
  const navigate = useNavigate();
  const settings = useSettings();
  if (!tab) return <Navigate to="/settings/providers" replace />;
  // Aliases moved into Routing, beside pools.
  if (tab === "aliases") return <Navigate to="/settings/routing" replace />;
  const current = (TABS.find((t) => t.id === tab)?.id ?? "providers") as TabId;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Settings</h1>
        {settings.data?.config_file && (
          <span className="small muted">
            Saved to <span className="mono">{settings.data.config_file}</span>
          </span>
        )}
      </div>
      {settings.data?.reload_error && (
        <div className="banner warn" role="alert">
          <div className="grow">
            The config file on disk has an error, so the gateway keeps running the last good version: {settings.data.reload_error}
          </div>
        </div>
      )}
      <Tabs label="Settings sections" value={current} onChange={(id) => navigate(`/settings/${id}`)} tabs={TABS.map((t) => ({ id: t.id, label: t.label }))} />
      {current === "providers" && <Providers />}
      {current === "models" && <Models />}
      {current === "routing" && <Routing />}
      {current === "mcp" && <McpServers />}
      {current === "assistants" && <Assistants />}
      {current === "keys" && <Keys />}
      {current === "general" && <General />}
    </div>
  );
}
