export { AgentraceOptions, ENV, type ExporterConfig, resolveConfig } from './config.ts';
export {
  AgentraceSpanProcessor,
  createAgentraceSpanProcessor,
  type DeliveryStats,
} from './span-processor.ts';
export { type Agentrace, startAgentrace } from './start-agentrace.ts';
