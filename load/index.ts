/**
 * The load harness as a library (for tests, and for the sharding and chaos work that runs these
 * scenarios against a cluster): `runScenario(options)` → LoadReport, `auditDatabase(db, …)`.
 */
export { auditDatabase, emptyAcknowledged, mergeAcknowledged, settledState, soldUnits, type Acknowledged, type AuditOptions, type AuditReport, type LedgerEntry } from './audit.js';
export { loadOptions, parseLoadArgs, scenarioNames, type LoadOptions, type ScenarioName } from './options.js';
export { runScenario, type EngineRun, type LoadReport, type RunHooks, type TimelinePoint } from './run-scenario.js';
export { writeLoadResults } from './report/write.js';
export { startServerProcess, serverEnvironment, type ServerProcess, type ServerLimits } from './server/server-process.js';
