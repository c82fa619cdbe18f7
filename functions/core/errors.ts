/** A problem with one article: which file, where in it, and why it was not published. */
export interface ArticleProblem {
  readonly file: string;
  readonly line?: number;
  readonly reason: string;
}

/** Thrown by the article parsers; turned into an ArticleProblem at the boundary. */
export class ArticleError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = "ArticleError";
  }
}

/** The site configuration is unusable; `problems` lists every bad field. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}
