// /healthz is built from each module's own health: the server is `ok` when every module is,
// and `degraded` (with the reasons) when one of them is not, e.g. capture retrying after the
// X server vanished, or the broadcast going on without sound.

export interface ModuleHealth {
  /** `off` = turned off on purpose (e.g. --no-audio): not a problem. */
  status: 'ok' | 'degraded' | 'off';
  /** Why it is not ok (empty when ok). */
  reason: string;
}

export interface HealthSource {
  health(): ModuleHealth;
}

export interface HealthReport {
  status: 'ok' | 'degraded';
  /** "capture: lost the X display …", one per degraded module. */
  reasons: string[];
  modules: Record<string, ModuleHealth>;
}

export function aggregateHealth(sources: Record<string, HealthSource>): HealthReport {
  const modules: Record<string, ModuleHealth> = {};
  const reasons: string[] = [];
  for (const [name, source] of Object.entries(sources)) {
    const health = source.health();
    modules[name] = health;
    if (health.status === 'degraded') reasons.push(`${name}: ${health.reason}`);
  }
  return { status: reasons.length > 0 ? 'degraded' : 'ok', reasons, modules };
}
