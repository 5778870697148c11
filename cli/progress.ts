// A one-line progress report on stderr for long operations (ls -R, tree, deleteall); drawn only when stderr
// is a terminal, redrawn at most every 100 ms so it costs nothing measurable.
export class Progress {
  private count = 0;
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly label: string,
    private total?: number,
  ) {
    this.enabled = process.stderr.isTTY === true;
  }

  setTotal(total: number): void {
    this.total = total;
  }

  tick(n = 1): void {
    this.count += n;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    const width = 30;
    let text: string;
    if (this.total !== undefined && this.total > 0) {
      const frac = Math.min(1, this.count / this.total);
      const filled = Math.round(frac * width);
      text = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.count}/${this.total}`;
    } else {
      text = `${this.label} ${this.count}`;
    }
    process.stderr.write(`\r${text}\x1b[K`);
  }

  done(): void {
    if (this.enabled && this.lastDraw !== 0) process.stderr.write('\r\x1b[K');
  }
}
