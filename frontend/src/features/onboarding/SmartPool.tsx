// First run's last step: with providers connected and no route named `smart` yet, one click
// makes a ready `smart` pool (every chat model that calls tools, fastest first). Dismissed for
// good with "No thanks".

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { useAliases } from "../../api/config";
import { createPool, invalidateRouting, usePools } from "../../api/routing";
import type { Pool } from "../../api/types";
import { errorMessage } from "../../components/ErrorBanner";
import { SMART_POOL } from "../settings/routing";

const DISMISSED = "switchyard.smartPoolOffer";

function dismissed(): boolean {
  try {
    return localStorage.getItem(DISMISSED) === "dismissed";
  } catch {
    return false;
  }
}

export function SmartPoolOffer({ onUse }: { onUse?: (name: string) => void }) {
  const qc = useQueryClient();
  const aliases = useAliases();
  const pools = usePools();
  const [hidden, setHidden] = useState(dismissed);
  const [made, setMade] = useState<Pool | null>(null);
  const create = useMutation({
    mutationFn: () => {
      const { name, ...body } = SMART_POOL;
      return createPool(name, body);
    },
    onSuccess: (pool) => {
      setMade(pool);
      invalidateRouting(qc);
    },
  });
  if (made) {
    return (
      <div className="banner ok smart-offer" role="status" data-testid="smart-pool-offer">
        <div className="grow">
          {made.members.length > 0 ? (
            <>
              Made <strong className="mono">smart</strong> over {made.members.length} model{made.members.length === 1 ? "" : "s"} that call tools; it sends each request to the fastest.
            </>
          ) : (
            <>
              Made <strong className="mono">smart</strong>, but no connected model is known to call tools yet. See <Link to="/settings/routing">Routing</Link>.
            </>
          )}
        </div>
        {made.members.length > 0 && onUse && (
          <button type="button" className="btn sm" onClick={() => onUse("smart")}>
            Use it
          </button>
        )}
      </div>
    );
  }
  const taken = (aliases.data ?? []).some((a) => a.name === "smart") || (pools.data ?? []).some((p) => p.name === "smart");
  if (hidden || !aliases.data || !pools.data || taken) return null;
  const dismiss = () => {
    try {
      localStorage.setItem(DISMISSED, "dismissed");
    } catch {
      // storage disabled: hidden for this page only
    }
    setHidden(true);
  };
  return (
    <div className="banner info smart-offer" data-testid="smart-pool-offer">
      <div className="grow">
        <strong>One name for your best models?</strong> A <span className="mono">smart</span> pool takes every connected chat model that calls tools and sends each
        request to the fastest; clients ask for <span className="mono">smart</span>.
        {create.error && (
          <div className="small" role="alert" style={{ color: "var(--danger)", marginTop: 4 }}>
            {errorMessage(create.error)}
          </div>
        )}
      </div>
      <div className="row" style={{ flexWrap: "nowrap" }}>
        <button type="button" className="btn sm primary" onClick={() => create.mutate()} disabled={create.isPending}>
          Create the smart pool
        </button>
        <button type="button" className="btn sm ghost" onClick={dismiss}>
          No thanks
        </button>
      </div>
    </div>
  );
}
