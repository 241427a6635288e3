import { lazy, Suspense } from "react";
import { Navigate, NavLink, Route, Routes } from "react-router";
import { useProviders } from "./api/config";
import { IconAuto, IconMoon, IconSun } from "./components/Icons";
import { KeyPrompt } from "./components/KeyPrompt";
import { Onboarding } from "./features/onboarding/Onboarding";
import Playground from "./features/playground/Playground";
import { nextTheme, setTheme, useThemeChoice } from "./lib/theme";

// The playground is the first screen and comes with the entry; the chart pages bring ECharts
// and load when visited.
const Dashboard = lazy(() => import("./features/dashboard/Dashboard"));
const Peek = lazy(() => import("./features/peek/Peek"));
const Settings = lazy(() => import("./features/settings/Settings"));

function ThemeToggle() {
  const choice = useThemeChoice();
  const label = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" }[choice];
  const Icon = { system: IconAuto, light: IconSun, dark: IconMoon }[choice];
  return (
    <button type="button" className="btn ghost icon" title={`${label} (click to change)`} aria-label={`${label}. Change theme`} onClick={() => setTheme(nextTheme(choice))}>
      <Icon />
    </button>
  );
}

/** `/ui/`: onboarding until a provider exists, then the playground. */
function Home() {
  const providers = useProviders();
  if (providers.isPending) return null;
  if (providers.data && providers.data.length === 0) return <Onboarding />;
  return <Navigate to="/playground" replace />;
}

function Loading() {
  return (
    <div className="page muted" aria-busy="true">
      Loading…
    </div>
  );
}

export function App() {
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/playground" className="brand" aria-label="Switchyard">
          <img src={`${import.meta.env.BASE_URL}favicon.svg`} alt="" />
          <span>Switchyard</span>
        </NavLink>
        <nav className="nav" aria-label="Main">
          <NavLink to="/playground">Playground</NavLink>
          <NavLink to="/dashboard">Dashboard</NavLink>
          <NavLink to="/peek">Peek</NavLink>
          <NavLink to="/settings">Settings</NavLink>
        </nav>
        <div className="topbar-right">
          <ThemeToggle />
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Routes>
            <Route path="/" element={<Home />} />
            <Route path="/welcome" element={<Onboarding />} />
            <Route path="/playground" element={<Playground />} />
            <Route path="/playground/:sessionId" element={<Playground />} />
            <Route path="/dashboard" element={<Dashboard />} />
            <Route path="/peek" element={<Peek />} />
            <Route path="/peek/:requestId" element={<Peek />} />
            <Route path="/settings" element={<Settings />} />
            <Route path="/settings/:tab" element={<Settings />} />
            <Route
              path="*"
              element={
                <div className="page empty">
                  <h2>Nothing here</h2>
                  <p>
                    <NavLink to="/playground">Go to the playground</NavLink>
                  </p>
                </div>
              }
            />
          </Routes>
        </Suspense>
      </main>
      <KeyPrompt />
    </div>
  );
}
