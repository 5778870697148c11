// Request counters and latency histograms for the per-request hot path: a series is created once per label
// value, and recording into it is a map lookup plus a few number updates (prom-client's labelled children
// re-hash their labels on every call). Rendered in Prometheus text format at scrape time.

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

interface HistogramSeries {
  buckets: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram {
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelName: string,
    readonly bounds: readonly number[],
  ) {}

  /** The series for one label value; keep it and call observe on it. */
  child(label: string): HistogramSeries {
    let s = this.series.get(label);
    if (!s) {
      s = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(label, s);
    }
    return s;
  }

  observe(s: HistogramSeries, value: number): void {
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        (s.buckets[i] as number)++;
        break;
      }
    }
    s.sum += value;
    s.count++;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [label, s] of this.series) {
      const l = `${this.labelName}="${esc(label)}"`;
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.buckets[i] as number;
        lines.push(`${this.name}_bucket{le="${this.bounds[i]}",${l}} ${cumulative}`);
      }
      lines.push(`${this.name}_bucket{le="+Inf",${l}} ${s.count}`);
      lines.push(`${this.name}_sum{${l}} ${s.sum}`);
      lines.push(`${this.name}_count{${l}} ${s.count}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** A counter with two labels, the second a number (an HTTP status). */
export class HotCounter2 {
  private readonly series = new Map<string, Map<number, { n: number }>>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly [string, string],
  ) {}

  inc(a: string, b: number): void {
    let byB = this.series.get(a);
    if (!byB) {
      byB = new Map();
      this.series.set(a, byB);
    }
    const c = byB.get(b);
    if (c) c.n++;
    else byB.set(b, { n: 1 });
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [a, byB] of this.series) {
      for (const [b, c] of byB) lines.push(`${this.name}{${this.labelNames[0]}="${esc(a)}",${this.labelNames[1]}="${b}"} ${c.n}`);
    }
    return lines.join('\n') + '\n';
  }
}
