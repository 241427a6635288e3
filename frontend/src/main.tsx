import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";
import { ApiError } from "./api/client";
import { App } from "./App";
import { ToastProvider } from "./components/Toast";
import "./styles/theme.css";
import "./styles/layout.css";
import "./styles/content.css";
import "./styles/playground.css";
import "./styles/peek.css";
import "./styles/settings.css";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Refusals (4xx) will not change by asking again; a restarting gateway might.
      retry: (count, e) => count < 2 && !(e instanceof ApiError && e.status >= 400 && e.status < 500),
      refetchOnWindowFocus: true,
    },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter basename="/ui">
        <ToastProvider>
          <App />
        </ToastProvider>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
