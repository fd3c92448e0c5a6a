import type { WriteStream } from 'node:tty';

const WIDTH = 30;
const REDRAW_MS = 100;

/**
 * A one-line progress bar on a terminal (`exporting ████░░░░ 120/500 runs`), redrawn at most ten times a
 * second. Draws nothing when the stream is not a terminal, so redirected output stays clean.
 */
export class ProgressBar {
  private done = 0;
  private drawnAt = 0;

  constructor(
    private readonly out: Pick<WriteStream, 'write' | 'isTTY'>,
    private readonly label: string,
    private readonly total: number,
  ) {}

  tick(): void {
    this.done++;
    const now = Date.now();
    if (now - this.drawnAt >= REDRAW_MS || this.done === this.total) this.draw(now);
  }

  /** Leaves the finished bar on its own line. */
  finish(): void {
    if (!this.out.isTTY) return;
    this.draw(Date.now());
    this.out.write('\n');
  }

  private draw(now: number): void {
    if (!this.out.isTTY) return;
    this.drawnAt = now;
    const filled = this.total === 0 ? WIDTH : Math.round((this.done / this.total) * WIDTH);
    this.out.write(
      `\r${this.label} ${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)} ${this.done}/${this.total}`,
    );
  }
}
