import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

// google.rpc.Status carrying a google.rpc.RetryInfo, described here (no vendored .proto files), for the
// `grpc-status-details-bin` trailer that tells gRPC clients how long to back off.
const root = protobuf.Root.fromJSON({
  nested: {
    rpc: {
      nested: {
        Status: {
          fields: {
            code: { type: 'int32', id: 1 },
            message: { type: 'string', id: 2 },
            details: { rule: 'repeated', type: 'Any', id: 3 },
          },
        },
        Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
        RetryInfo: { fields: { retryDelay: { type: 'Duration', id: 1 } } },
        Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
      },
    },
  },
});
const StatusType = root.lookupType('rpc.Status');
const RetryInfoType = root.lookupType('rpc.RetryInfo');

/**
 * A retryable UNAVAILABLE status whose `grpc-status-details-bin` trailer holds a google.rpc.Status with a
 * google.rpc.RetryInfo of `retryAfterSeconds` (OTLP's throttling signal over gRPC).
 */
export function unavailableWithRetryInfo(
  message: string,
  retryAfterSeconds: number,
): Partial<grpc.StatusObject> {
  const retryInfo = RetryInfoType.encode({ retryDelay: { seconds: retryAfterSeconds, nanos: 0 } }).finish();
  const status = StatusType.encode({
    code: grpc.status.UNAVAILABLE,
    message,
    details: [{ typeUrl: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }],
  }).finish();
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(status));
  return { code: grpc.status.UNAVAILABLE, details: message, metadata };
}
