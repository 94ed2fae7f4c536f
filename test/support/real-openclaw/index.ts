/**
 * Harness for the real-OpenClaw suite (npm run test:openclaw): install, throw-away homes, real
 * gateways, a Control-UI-like WebSocket client (and one with a signed device identity), port squatters and the shared file log.
 */
export { ensureOpenclawInstalled, REPO_DIR, type OpenclawInstall } from './install.js';
export {
  GatewayHome,
  createGatewayHome,
  type CliResult,
  type GatewayHomeOptions,
  type StartGatewayOptions,
  type GatewayStatusJson,
  type OpenclawConfigJson,
} from './gateway-home.js';
export { GatewayProcess, type GatewayExit } from './gateway-process.js';
export {
  startControlUiClient,
  staleTab,
  waitForHello,
  UI_BACKOFF,
  type ControlUiAttempt,
  type ControlUiClient,
  type ControlUiClientOptions,
} from './control-ui-client.js';
export { createDeviceIdentity, deviceConnect, type DeviceConnectOptions, type DeviceConnectResult, type DeviceIdentity } from './device-client.js';
export { occupyPort, type PortOccupant } from './occupy-port.js';
export { FileLogCursor, defaultLogPath, parseLogLine, type LogEntry } from './file-log.js';
export { freePort, isListening, waitUntil, sleep } from './net-util.js';
export { saveRealFixture } from './save-fixture.js';
