// The part of autocannon's programmatic API the gateway scenario uses (the package ships no types).
declare module 'autocannon' {
  interface Percentiles {
    average: number;
    p50: number;
    p99: number;
    p99_9: number;
  }
  interface Result {
    requests: Percentiles & { total: number };
    /** Milliseconds. */
    latency: Percentiles;
    errors: number;
    timeouts: number;
    non2xx: number;
    duration: number;
  }
  interface Options {
    url: string;
    connections?: number;
    /** Seconds (fractions allowed). */
    duration?: number;
    pipelining?: number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
