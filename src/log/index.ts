// Logging: the structured logger and its sinks.
export { createLogger, type LogFields, type LogFormat, type Logger, type LogLevel } from "./logger.ts";
export { type AccessEntry, redactQuery, writeAccessLog } from "./access-log.ts";
export { createInspector, type InspectorRecord, sessionFileName } from "./inspector.ts";
export { type LogSink, openSink } from "./sinks.ts";
