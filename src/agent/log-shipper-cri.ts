import { maxMessageBytes } from '../model/log-limits.js';

/**
 * Turns the bytes of a container log in the CRI "k8s-file" format (what conmon writes) into log events:
 *
 *   <RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>\n
 *
 * `P` marks a partial line: its text continues on the stream's next line, until an `F` line ends it.
 * stdout and stderr are assembled independently (their partials may interleave). An assembled line
 * longer than an event may hold (256 KiB less CloudWatch's 26 bytes) is split into several events, as
 * the awslogs driver does, never inside a UTF-8 character.
 *
 * Every event records where it completes in the file (`end`, plus `seq` for several events completing
 * on one line) and where a reader must restart to rebuild everything after it (`resume`: the start of
 * the earliest partial line still open, else `end`). A shipper that saves both for the last event it
 * delivered can restart from `resume` and skip events up to `end`/`seq`: nothing lost, nothing twice.
 */
export interface CriEvent {
  /** Epoch milliseconds, from the first line of the event. */
  readonly timestamp: number;
  readonly message: string;
  readonly stream: CriStream;
  readonly end: number;
  readonly seq: number;
  readonly resume: number;
}

export const criStreams = ['stdout', 'stderr'] as const;
export type CriStream = (typeof criStreams)[number];

/** A place in the file, ordered by (end, seq). */
export interface CriMark {
  readonly end: number;
  readonly seq: number;
}

export const isAfter = (e: CriMark, mark: CriMark | undefined) => !mark || e.end > mark.end || (e.end === mark.end && e.seq > mark.seq);

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([^ ]+) /;
/** A line without a newline this long is taken as complete (conmon's own lines are a few KiB). */
const MAX_LINE_BYTES = 1024 * 1024;

interface Open {
  start: number;
  timestamp: number;
  parts: Buffer[];
  bytes: number;
}

export class CriAssembler {
  private carry: Buffer = Buffer.alloc(0);
  /** File offset of the first byte of `carry` (= of the next line). */
  private offset: number;
  private readonly open = new Map<CriStream, Open>();
  private lastTimestamp: number | undefined;
  /** Events already recorded at `offset` (end() adds more at the same place: they must come after). */
  private recordedAt = -1;
  private recordedCount = 0;

  /**
   * @param offset the file offset of the first byte that will be pushed
   * @param now the clock, for lines without a valid timestamp
   * @param maxBytes the longest message (tests shrink it)
   */
  constructor(
    offset: number,
    private readonly now: () => number = Date.now,
    private readonly maxBytes: number = maxMessageBytes,
  ) {
    this.offset = offset;
  }

  /** File offset just past the last complete line consumed. */
  get consumed(): number {
    return this.offset;
  }

  /** Feed the next bytes of the file; returns the events they complete. */
  push(chunk: Buffer): CriEvent[] {
    const out: CriEvent[] = [];
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let from = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, from);
      if (nl === -1) break;
      this.line(data.subarray(from, nl), nl + 1 - from, out);
      from = nl + 1;
    }
    data = data.subarray(from);
    if (data.length > MAX_LINE_BYTES) {
      this.line(data, data.length, out);
      data = Buffer.alloc(0);
    }
    this.carry = Buffer.from(data);
    return out;
  }

  /** The file is complete (the container stopped): an unterminated last line and open partials become events. */
  end(): CriEvent[] {
    const out: CriEvent[] = [];
    if (this.carry.length) {
      this.line(this.carry, this.carry.length, out);
      this.carry = Buffer.alloc(0);
    }
    const pieces: Piece[] = [];
    for (const stream of criStreams) {
      const o = this.open.get(stream);
      if (o) pieces.push(...this.cut(stream, o, 0));
    }
    this.open.clear();
    this.record(pieces, out);
    return out;
  }

  /** One line of `length` bytes in the file (newline included), `text` without its newline. */
  private line(text: Buffer, length: number, out: CriEvent[]): void {
    const start = this.offset;
    this.offset += length;
    const head = LINE.exec(text.subarray(0, 64).toString('latin1'));
    const parsed = head ? Date.parse(head[1]!) : NaN;
    let stream: CriStream = 'stdout';
    let partial = false;
    let content = text;
    let timestamp: number;
    if (head && !Number.isNaN(parsed)) {
      timestamp = parsed;
      stream = head[2] as CriStream;
      partial = head[3]!.split(':')[0] === 'P';
      content = text.subarray(head[0].length);
    } else {
      // Not CRI: keep the text as a full stdout line rather than lose it.
      timestamp = this.lastTimestamp ?? this.now();
    }
    this.lastTimestamp = timestamp;
    let o = this.open.get(stream);
    if (!o) {
      o = { start, timestamp, parts: [], bytes: 0 };
      this.open.set(stream, o);
    }
    o.parts.push(Buffer.from(content));
    o.bytes += content.length;
    let pieces: Piece[] = [];
    if (!partial) {
      pieces = this.cut(stream, o, 0);
      this.open.delete(stream);
    } else if (o.bytes > this.maxBytes) {
      // Ship what one event cannot hold anyway; less than an event's worth stays open.
      pieces = this.cut(stream, o, this.maxBytes);
    }
    this.record(pieces, out);
  }

  /** Cut an open line into messages until at most `leave` bytes remain open. */
  private cut(stream: CriStream, o: Open, leave: number): Piece[] {
    let rest = o.parts.length === 1 ? o.parts[0]! : Buffer.concat(o.parts);
    const pieces: Piece[] = [];
    while (rest.length > leave && rest.length > 0) {
      const { message, used } = utf8Prefix(rest, this.maxBytes);
      rest = rest.subarray(used);
      if (message !== '') pieces.push({ stream, timestamp: o.timestamp, message, start: o.start });
    }
    o.parts = rest.length ? [Buffer.from(rest)] : [];
    o.bytes = rest.length;
    return pieces;
  }

  /**
   * Turn the pieces completed by the line just read into events at its end. A restart after one of them
   * must rebuild the lines still open and the pieces after it on this line, so it resumes at the earliest
   * start among those.
   */
  private record(pieces: readonly Piece[], out: CriEvent[]): void {
    if (pieces.length === 0) return;
    const base = this.recordedAt === this.offset ? this.recordedCount : 0;
    this.recordedAt = this.offset;
    this.recordedCount = base + pieces.length;
    let resume = Math.min(this.offset, ...[...this.open.values()].map((o) => o.start));
    const events: CriEvent[] = [];
    for (let i = pieces.length - 1; i >= 0; i--) {
      const { start, ...piece } = pieces[i]!;
      events.push({ ...piece, end: this.offset, seq: base + i, resume });
      resume = Math.min(resume, start);
    }
    out.push(...events.reverse());
  }
}

interface Piece {
  readonly stream: CriStream;
  readonly timestamp: number;
  readonly message: string;
  /** Where the line it came from starts in the file. */
  readonly start: number;
}

/**
 * The longest prefix of `bytes` that decodes to at most `max` UTF-8 bytes without cutting a character
 * (invalid bytes decode to U+FFFD, which is longer, hence the re-check).
 */
export function utf8Prefix(bytes: Buffer, max: number): { message: string; used: number } {
  let cut = Math.min(bytes.length, max);
  for (;;) {
    if (cut < bytes.length) {
      let c = cut;
      while (c > 0 && c > cut - 4 && (bytes[c]! & 0xc0) === 0x80) c--;
      if (c > 0) cut = c;
    }
    const message = bytes.subarray(0, cut).toString('utf8');
    const size = Buffer.byteLength(message, 'utf8');
    if (size <= max || cut <= 1) return { message, used: cut };
    cut -= Math.max(1, Math.ceil((size - max) / 2));
  }
}
