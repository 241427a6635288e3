/// <reference types="vitest/config" />
// Vite builds the UI into dist/, which the gateway embeds and serves at /ui/.
// `npm run dev` proxies the API to a running gateway: SWITCHYARD_URL (default http://127.0.0.1:7137).
import { defineConfig, type ProxyOptions } from "vite";
import react from "@vitejs/plugin-react";

const gateway = process.env.SWITCHYARD_URL ?? "http://127.0.0.1:7137";

// The gateway trusts same-origin requests from its own UI; the dev server is another origin,
// so the proxy drops the browser's Origin (Sec-Fetch-Site: same-origin still comes through).
const proxy: ProxyOptions = {
  target: gateway,
  changeOrigin: true,
  configure: (p) => {
    p.on("proxyReq", (req) => req.removeHeader("origin"));
  },
};

export default defineConfig({
  base: "/ui/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
    rolldownOptions: {
      output: {
        // Name the big shared pieces, so the chunk list says what is what.
        codeSplitting: {
          groups: [
            { name: "echarts", test: /node_modules[\\/](echarts|zrender)[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: { "/v1": proxy, "/admin": proxy, "/statsz": proxy, "^/$": proxy },
  },
  test: {
    include: ["src/**/*.test.{ts,tsx}"],
    environment: "node",
  },
});
