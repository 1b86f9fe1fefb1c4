// Logging: the structured logger and its sinks.
export { createLogger, type LogFields, type LogFormat, type Logger, type LogLevel } from "./logger.ts";
export { type AccessEntry, redactQuery, writeAccessLog } from "./access-log.ts";
export { createInspector, type InspectorRecord, sessionFileName } from "./inspector.ts";
export { LogFileError } from "./file-output.ts";
export { LOG_MAX_PENDING_BYTES } from "./paced-output.ts";
export { type LogSink, openSink } from "./sinks.ts";
