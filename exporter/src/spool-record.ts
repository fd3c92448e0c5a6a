/** One spooled export: an OTLP `ExportTraceServiceRequest` in protobuf, and how many spans it holds. */
export interface SpoolRecord {
  payload: Buffer;
  spans: number;
}

// On disk a record is [u32 payload length][u32 span count][payload], big-endian: a length prefix lets a
// reader find the records of an append-only file without parsing the protobuf.
const HEADER_BYTES = 8;

export function encodeRecord(payload: Uint8Array, spans: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(payload.byteLength, 0);
  header.writeUInt32BE(spans, 4);
  return Buffer.concat([header, payload]);
}

/**
 * The records of a segment file's bytes, in order. A torn record at the end (the process died while
 * appending it) is left out and `validBytes` tells where the whole records end.
 */
export function decodeRecords(bytes: Buffer): { records: SpoolRecord[]; validBytes: number } {
  const records: SpoolRecord[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const end = offset + HEADER_BYTES + length;
    if (end > bytes.length) break;
    records.push({
      payload: bytes.subarray(offset + HEADER_BYTES, end),
      spans: bytes.readUInt32BE(offset + 4),
    });
    offset = end;
  }
  return { records, validBytes: offset };
}
