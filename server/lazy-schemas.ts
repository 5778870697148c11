// Route schemas compiled when first needed rather than while the server starts. fastify compiles a validator (ajv)
// for every request schema and a serializer (fast-json-stringify) for every response schema of every route before
// it listens, and that was about a third of a start's CPU (docs/operations.md, start-up): time a restarting member
// spends not serving, three times over when a whole ensemble restarts on two cores. The compilers are fastify's
// own defaults with the same options; only when they run changes. Once the server listens, `warmUp` compiles what
// is left a few at a time, so a route's first request does not wait either; `compileAll` does it at once (a test
// checks that every schema compiles).
//
// fastify treats a validator factory given in its options as a custom one, and then passes header schemas on
// without lower-casing their property names; every header schema here is lower-case already (test/openapi).
import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type SerializerFactory = ReturnType<typeof SerializerSelector>;
type ValidatorFactory = ReturnType<typeof AjvCompiler>;
type Validate = ((data: unknown) => unknown) & { errors?: unknown };

/** Compiles per turn of the event loop while warming up (a few ms each), so requests are served in between. */
const WARM_UP_PER_TURN = 4;

export class LazySchemas {
  private readonly waiting = new Set<() => void>();
  private readonly realSerializers: SerializerFactory = SerializerSelector();
  private readonly realValidators: ValidatorFactory = AjvCompiler();

  /** A function that compiles on its first call (or at warm-up) and is that compiled function from then on. */
  private later<F>(compile: () => F): () => F {
    let fn: F | undefined;
    const make = (): F => {
      if (fn === undefined) {
        fn = compile();
        this.waiting.delete(make);
      }
      return fn;
    };
    this.waiting.add(make);
    return make;
  }

  /** For fastify's `schemaController.compilersFactory.buildSerializer`. */
  readonly buildSerializer: SerializerFactory = (externalSchemas, options) => {
    const compileNow = this.realSerializers(externalSchemas, options);
    return (route) => {
      const make = this.later(() => compileNow(route));
      return (data: unknown) => make()(data);
    };
  };

  /** For fastify's `schemaController.compilersFactory.buildValidator`: ajv's answer and its `errors`, as fastify reads them. */
  readonly buildValidator: ValidatorFactory = (externalSchemas, options) => {
    const compileNow = this.realValidators(externalSchemas, options);
    return (route) => {
      const make = this.later(() => compileNow(route) as Validate);
      const validate: Validate = (data) => {
        const real = make();
        const ok = real(data);
        validate.errors = real.errors;
        return ok;
      };
      return validate as ReturnType<ReturnType<ValidatorFactory>>;
    };
  };

  /** How many validators and serializers are not compiled yet. */
  get pending(): number {
    return this.waiting.size;
  }

  /** Compiles everything not compiled yet; throws the first compiler error. */
  compileAll(): void {
    for (const make of [...this.waiting]) make();
  }

  /** Compiles the rest in the background, a few per turn; one that fails is reported and left to its route. */
  warmUp(onError: (e: unknown) => void): void {
    const step = () => {
      let n = 0;
      for (const make of this.waiting) {
        try {
          make();
        } catch (e) {
          this.waiting.delete(make);
          onError(e);
        }
        if (++n >= WARM_UP_PER_TURN) break;
      }
      if (this.waiting.size > 0) setImmediate(step).unref();
    };
    setImmediate(step).unref();
  }
}
