/** A conditional write (If-Match / If-None-Match) found the object in another state. */
export class PreconditionFailedError extends Error {
  constructor(readonly key: string) {
    super(`precondition failed for ${key}: it was changed by someone else`);
    this.name = "PreconditionFailedError";
  }
}

/** A key that is empty, absolute, or could climb out of the storage root. */
export class InvalidKeyError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`invalid storage key ${JSON.stringify(key.slice(0, 200))}: ${reason}`);
    this.name = "InvalidKeyError";
  }
}
