// Docker's jsonmessage streams (pull, push, load, import progress).
import { PassThrough } from 'stream';
import type { FastifyReply } from 'fastify';

/**
 * A jsonmessage stream (application/json, one JSON object and CRLF per message). Nothing is sent
 * until the first message, so an error before it can still be a plain HTTP error, as in Docker.
 */
export class JsonStream {
  private out?: PassThrough;

  constructor(private readonly reply: FastifyReply) {}

  get started(): boolean {
    return this.out !== undefined;
  }

  private start(): PassThrough {
    if (!this.out) {
      this.out = new PassThrough();
      void this.reply.code(200).type('application/json').send(this.out);
    }
    return this.out;
  }

  write(message: object): void {
    this.start().write(JSON.stringify(message) + '\r\n');
  }

  /** Docker's FormatError line. */
  error(err: Error): void {
    this.write({ errorDetail: { message: err.message }, error: err.message });
  }

  end(): FastifyReply {
    this.start().end();
    return this.reply;
  }
}
