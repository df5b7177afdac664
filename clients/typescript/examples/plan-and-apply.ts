import { CapmClient, CapmRefusedError, type PlanParams } from "capm-client";

const capm = await CapmClient.start({ client: { name: "my-app", version: "1.0.0" } });
const request: PlanParams = { project: ".", operation: "install", bundles: ["time"] };
const plan = await capm.plan(request, { onProgress: (p) => console.log(p.stage, p.done, p.total) });
for (const a of plan.actions) console.log(a.action, a.resource, a.target.file, a.clients.join(", "));
try {
  // Applies exactly the plan shown: if the project changed since, nothing is written.
  const applied = await capm.apply({ ...request, fingerprint: plan.fingerprint });
  console.log(applied.outcome);
} catch (e) {
  if (!(e instanceof CapmRefusedError && e.code === "plan-stale")) throw e;
  console.log("the project changed: plan again and show the new plan");
}
await capm.close();
