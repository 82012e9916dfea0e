/**
 * One line of progress that a terminal redraws in place (carriage return, erase line) and a pipe gets as plain
 * lines, each only when it says something new. Notes printed meanwhile go above the progress line.
 */
export interface LiveLine {
  /** Show `text` as the current progress; `plain` is what a pipe gets (default `text`). */
  update(text: string, plain?: string): void;
  /** A line of its own (an event, a finished step), kept above the progress. */
  note(text: string): void;
  /** Leave the last progress on screen and end the line. */
  end(): void;
  /** Replace the progress with `text`, a line of its own. */
  finish(text: string): void;
}

export interface LineStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

const ERASE = '\r\x1b[K';

export function liveLine(stream: LineStream): LiveLine {
  return stream.isTTY === true ? terminalLine(stream) : pipedLine(stream);
}

function terminalLine(stream: LineStream): LiveLine {
  let current = '';
  return {
    update(text) {
      current = text;
      stream.write(ERASE + text);
    },
    note(text) {
      stream.write(`${ERASE}${text}\n${current}`);
    },
    end() {
      if (current !== '') stream.write('\n');
      current = '';
    },
    finish(text) {
      current = '';
      stream.write(`${ERASE}${text}\n`);
    },
  };
}

function pipedLine(stream: LineStream): LiveLine {
  let last = '';
  return {
    update(text, plain = text) {
      if (plain === last) return;
      last = plain;
      stream.write(`${plain}\n`);
    },
    note(text) {
      stream.write(`${text}\n`);
    },
    end() {},
    finish(text) {
      stream.write(`${text}\n`);
    },
  };
}
