/**
 * Public entry of the monitor (log follower + scheduled probe → incidents → alerts).
 * main.ts calls startMonitor and plugs `alerts` into the router.
 */
export { startMonitor, type MonitorDeps, type MonitorHandle } from './monitor.js';
export { policyFromConfig, type AlertPolicy } from './incident-machine.js';
export type { Incident } from '../domain/incident.js';
export { MONITOR_DEFAULTS } from '../constants.js';
