/**
 * Runs a whole-site run the way the synthesized WholeSite state machine would, with the synthesized
 * Lambda bundles in fresh Node processes (see deployed.ts) against moto: the Distributed Map's
 * ItemReader (ListObjectsV2 of content/, each object as Step Functions presents it), its
 * ItemSelector and ItemBatcher (items and bytes per batch, BatchInput), then PlanGroups, the Groups
 * map over what it returned and Reduce. Everything comes from the template's definition: the
 * functions invoked, the limits, and every path and payload template, evaluated as Step Functions
 * would (a path to a field that is not there fails the run).
 */

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { type Deployed, deployedFunction, type Invocation, invokeFresh } from "./deployed.ts";

/** Where the bundles' SDK clients are sent, and with which fake credentials. */
export interface DriverAws {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** The state machine as synthesized: what its Distributed Maps are told, and the four stages. */
export interface WholeSiteMachine {
  /** The logical id of the AWS::StepFunctions::StateMachine resource. */
  readonly logicalId: string;
  /** The ItemReader's Prefix. */
  readonly prefix: string;
  /** The ItemBatcher's MaxItemsPerBatch (the construct's `shuffleBatchSize`). */
  readonly maxItemsPerBatch: number;
  readonly maxInputBytesPerBatch: number;
  /** The states whose fields make each state's input. */
  readonly states: {
    readonly shuffle: State;
    readonly shuffleTask: State;
    readonly plan: State;
    readonly groups: State;
    readonly groupTask: State;
    readonly reduce: State;
  };
  readonly shuffle: Deployed;
  readonly plan: Deployed;
  readonly group: Deployed;
  readonly reduce: Deployed;
}

/** What one driven run did. */
export interface DrivenRun {
  /** Items of each shuffle batch, in listing order. */
  readonly batches: readonly number[];
  /** The items of the Groups map: what PlanGroups returned. */
  readonly groups: readonly unknown[];
  readonly reduce: unknown;
}

type Resource = { Type: string; Metadata?: Record<string, string>; Properties: Record<string, unknown> };
type Template = { Resources: Record<string, Resource> };
export type State = Record<string, unknown> & { Type: string; Next?: string };
/** The four stages of a run, each a function of its own. */
export type Stage = "shuffle" | "plan" | "group" | "reduce";

export async function readTemplate(outDir: string): Promise<Template> {
  return JSON.parse(await readFile(join(outDir, "FeedpubStack.template.json"), "utf8")) as Template;
}

/**
 * The definition with each CloudFormation token written as a string: `{"Ref": X}` as "X" and
 * `{"Fn::GetAtt": [X, "Arn"]}` as "X.Arn" (tokens only ever stand inside JSON strings).
 */
function definitionOf(template: Template): {
  logicalId: string;
  states: Record<string, State>;
  start: string;
} {
  const machines = Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === "AWS::StepFunctions::StateMachine",
  );
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const [logicalId, resource] = machines[0] as [string, Resource];
  const token = (part: unknown): string => {
    if (typeof part === "string") return part;
    const node = part as Record<string, unknown>;
    if ("Ref" in node) return String(node.Ref);
    if ("Fn::GetAtt" in node) return (node["Fn::GetAtt"] as string[]).join(".");
    throw new Error(`unexpected token in the definition: ${JSON.stringify(part)}`);
  };
  const raw = resource.Properties.DefinitionString;
  const text =
    typeof raw === "string"
      ? raw
      : ((raw as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1] ?? []).map(token).join("");
  const definition = JSON.parse(text) as { StartAt: string; States: Record<string, State> };
  return { logicalId, states: definition.States, start: definition.StartAt };
}

/** Throws unless `actual` is `expected`: the driver passes exactly these inputs. */
function expectShape(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected))
    throw new Error(`${what} is ${JSON.stringify(actual)}; the driver does ${JSON.stringify(expected)}`);
}

/** The function a Lambda task state invokes, as deployed.ts resolves it (its bundle and environment). */
async function taskFunction(
  outDir: string,
  template: Template,
  state: State | undefined,
  values: { bucket: string; distributionDomain: string },
): Promise<Deployed> {
  const parameters = state?.Parameters as { FunctionName?: string } | undefined;
  const logicalId = parameters?.FunctionName?.replace(/\.Arn$/, "") ?? "";
  const path = template.Resources[logicalId]?.Metadata?.["aws:cdk:path"];
  if (!path?.endsWith("/Resource")) throw new Error(`no function behind the task ${JSON.stringify(state)}`);
  // The construct path without the stack's name: deployedFunction matches it at the end.
  return deployedFunction(outDir, path.split("/").slice(1, -1).join("/"), values);
}

/**
 * Reads the synthesized state machine, Shuffle → PlanGroups → Groups → Reduce, and the four
 * functions its tasks invoke (bundles and environments). Only the fields `driveRun` evaluates
 * may shape the data passed between states: it refuses a definition that uses others.
 */
export async function synthesizedMachine(
  outDir: string,
  values: { bucket: string; distributionDomain: string },
): Promise<WholeSiteMachine> {
  const template = await readTemplate(outDir);
  const { logicalId, states, start } = definitionOf(template);
  const order: string[] = [];
  for (let name: string | undefined = start; name; name = states[name]?.Next) order.push(name);
  expectShape("the order of the states", order, ["Shuffle", "PlanGroups", "Groups", "Reduce"]);
  const {
    Shuffle: shuffle,
    PlanGroups: plan,
    Groups: groups,
    Reduce: reduce,
  } = states as Record<string, State>;
  const reader = shuffle?.ItemReader as { Resource: string; Parameters: { Bucket: string; Prefix: string } };
  expectShape("the ItemReader", reader.Resource.endsWith(":states:::s3:listObjectsV2"), true);
  expectShape(
    "the ItemReader's bucket",
    template.Resources[reader.Parameters.Bucket]?.Type,
    "AWS::S3::Bucket",
  );
  const batcher = shuffle?.ItemBatcher as { MaxItemsPerBatch: number; MaxInputBytesPerBatch: number };
  const inner = (map: State | undefined): State => {
    const processor = map?.ItemProcessor as { StartAt: string; States: Record<string, State> };
    expectShape("a map's child workflow", Object.keys(processor.States), [processor.StartAt]);
    return processor.States[processor.StartAt] as State;
  };
  const stages = {
    shuffle: shuffle as State,
    shuffleTask: inner(shuffle),
    plan: plan as State,
    groups: groups as State,
    groupTask: inner(groups),
    reduce: reduce as State,
  };
  for (const task of [stages.shuffleTask, stages.plan, stages.groupTask, stages.reduce])
    expectUnused(task, ["InputPath", "ResultPath", "ResultSelector"]);
  // The maps' results are discarded: each passes its own input on.
  for (const map of [stages.shuffle, stages.groups]) {
    expectUnused(map, ["InputPath", "OutputPath", "ResultSelector"]);
    expectShape("a map's ResultPath", map.ResultPath, null);
  }
  return {
    logicalId,
    prefix: reader.Parameters.Prefix,
    maxItemsPerBatch: batcher.MaxItemsPerBatch,
    maxInputBytesPerBatch: batcher.MaxInputBytesPerBatch,
    states: stages,
    shuffle: await taskFunction(outDir, template, stages.shuffleTask, values),
    plan: await taskFunction(outDir, template, stages.plan, values),
    group: await taskFunction(outDir, template, stages.groupTask, values),
    reduce: await taskFunction(outDir, template, stages.reduce, values),
  };
}

function expectUnused(state: State, fields: readonly string[]): void {
  const used = fields.filter((field) => field in state);
  if (used.length)
    throw new Error(`the driver does not evaluate ${used.join(", ")} of ${JSON.stringify(state)}`);
}

/**
 * An ASL reference path ("$", "$.run", "$$.Map.Item.Value.Key") on the state's input or the
 * context object. A field that is not there fails the execution, as in Step Functions.
 */
function select(path: string, input: unknown, context: unknown): unknown {
  const fromContext = path.startsWith("$$");
  const rest = path.slice(fromContext ? 2 : 1);
  if (!path.startsWith("$") || !/^(\.[A-Za-z_][\w-]*)*$/.test(rest))
    throw new Error(`the driver cannot evaluate the path ${path}`);
  let value = fromContext ? context : input;
  for (const field of rest.split(".").slice(1)) {
    if (value === null || typeof value !== "object" || !(field in value))
      throw new Error(
        `States.Runtime: the JSONPath '${path}' could not be found in ${JSON.stringify(fromContext ? context : input).slice(0, 400)}`,
      );
    value = (value as Record<string, unknown>)[field];
  }
  return value;
}

/** A payload template (Parameters, ItemSelector, BatchInput): a key ending in ".$" takes a path. */
function evaluate(template: unknown, input: unknown, context: unknown = {}): unknown {
  if (template === null || typeof template !== "object" || Array.isArray(template)) return template;
  return Object.fromEntries(
    Object.entries(template).map(([key, value]) =>
      key.endsWith(".$")
        ? [key.slice(0, -2), select(String(value), input, context)]
        : [key, evaluate(value, input, context)],
    ),
  );
}

/** The Map's context object for the item at `index`. */
const itemContext = (index: number, value: unknown) => ({ Map: { Item: { Index: index, Value: value } } });

/**
 * The ItemReader: every object under the prefix, page after page, as Step Functions hands each
 * to the map. Not S3's own field names: Step Functions calls the ETag "Etag" (quotes kept) and
 * gives LastModified in epoch seconds (checked against AWS: github.com/floci-io/floci/pull/3460).
 */
async function readItems(s3: S3Client, bucket: string, prefix: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      items.push({
        Etag: object.ETag,
        Key: object.Key,
        LastModified: (object.LastModified?.getTime() ?? 0) / 1000,
        Size: object.Size,
        StorageClass: object.StorageClass ?? "STANDARD",
      });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return items;
}

type Batch = { BatchInput: unknown; Items: unknown[] };

/** The ItemBatcher: a batch ends at MaxItemsPerBatch items or before its input passes MaxInputBytesPerBatch. */
function cutBatches(
  items: readonly unknown[],
  batchInput: unknown,
  limits: { maxItems: number; maxBytes: number },
): Batch[] {
  const empty = Buffer.byteLength(JSON.stringify({ BatchInput: batchInput, Items: [] }));
  const batches: Batch[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    const last = batches[batches.length - 1];
    if (!last || last.Items.length >= limits.maxItems || bytes + size > limits.maxBytes) {
      batches.push({ BatchInput: batchInput, Items: [item] });
      bytes = empty + size;
    } else {
      last.Items.push(item);
      bytes += size;
    }
  }
  return batches;
}

/** Runs `work` over `inputs`, at most `limit` at once (children of a Distributed Map). */
async function eachLimited<T>(inputs: readonly T[], limit: number, work: (input: T) => Promise<void>) {
  const queue = [...inputs];
  const worker = async () => {
    for (let input = queue.shift(); input !== undefined; input = queue.shift()) await work(input);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
}

/**
 * One execution of the state machine with input {run}: each state's input made from the
 * definition's paths and templates, each task's handler in a fresh process of its bundle, with the
 * template's environment plus `environment` (a new SITE_CONFIG, say). Any invocation that fails
 * fails the run, as the definition's Retry covers Lambda service errors only.
 */
export async function driveRun(
  machine: WholeSiteMachine,
  options: {
    s3: S3Client;
    bucket: string;
    run: string;
    aws: DriverAws;
    environment?: Record<string, string>;
    /** Children at once: the machine's MaxConcurrency is 100, this machine has two cores. */
    concurrency?: number;
    /** Hears each invocation of a stage's function (the bench measures them). */
    onInvoke?: (stage: Stage, invocation: Invocation) => void;
  },
): Promise<DrivenRun> {
  const { states } = machine;
  const concurrency = options.concurrency ?? 3;
  const task = async (stage: Stage, state: State, fn: Deployed, input: unknown) => {
    const { Payload } = evaluate(state.Parameters, input) as { Payload?: unknown };
    const environment = { ...fn.environment, ...options.environment };
    const invocation = await invokeFresh({ ...fn, environment }, Payload, options.aws);
    options.onInvoke?.(stage, invocation);
    const result = invocation.result;
    return state.OutputPath === undefined
      ? result
      : select(String(state.OutputPath), { Payload: result }, {});
  };
  const input = { run: options.run };
  const listed = await readItems(options.s3, options.bucket, machine.prefix);
  const selected = listed.map((item, index) =>
    states.shuffle.ItemSelector
      ? evaluate(states.shuffle.ItemSelector, input, itemContext(index, item))
      : item,
  );
  const batcher = states.shuffle.ItemBatcher as { BatchInput?: unknown };
  const batches = cutBatches(selected, evaluate(batcher.BatchInput, input), {
    maxItems: machine.maxItemsPerBatch,
    maxBytes: machine.maxInputBytesPerBatch,
  });
  await eachLimited(batches, concurrency, async (batch) => {
    await task("shuffle", states.shuffleTask, machine.shuffle, batch);
  });
  const planned = await task("plan", states.plan, machine.plan, input);
  const groups = select(String(states.groups.ItemsPath), planned, {});
  if (!Array.isArray(groups)) throw new Error(`PlanGroups returned ${JSON.stringify(planned)}`);
  const children = groups.map((group, index) =>
    evaluate(states.groups.ItemSelector, planned, itemContext(index, group)),
  );
  await eachLimited(children, concurrency, async (child) => {
    await task("group", states.groupTask, machine.group, child);
  });
  const reduce = await task("reduce", states.reduce, machine.reduce, planned);
  return { batches: batches.map((batch) => batch.Items.length), groups, reduce };
}

/**
 * A function that starts runs (Regenerate, Reconcile) as deployed: the template must give it
 * the whole-site functions' BUCKET_NAME and SITE_CONFIG and the state machine's ARN (a Ref), for
 * which `stateMachineArn` stands in. deployedFunction cannot resolve that Ref, hence this.
 */
export async function deployedStarter(
  outDir: string,
  name: string,
  machine: WholeSiteMachine,
  stateMachineArn: string,
): Promise<Deployed> {
  const template = await readTemplate(outDir);
  const functionOf = (path: string) =>
    Object.values(template.Resources).find(
      (resource) =>
        resource.Type === "AWS::Lambda::Function" && resource.Metadata?.["aws:cdk:path"]?.endsWith(path),
    );
  const variablesOf = (resource: Resource | undefined) =>
    ((resource?.Properties.Environment as { Variables?: Record<string, unknown> })?.Variables ??
      {}) as Record<string, unknown>;
  const starter = functionOf(`/${name}/Resource`);
  const asset = starter?.Metadata?.["aws:asset:path"];
  if (!asset) throw new Error(`no ${name} function with an asset in the template`);
  const own = variablesOf(starter);
  const stage = variablesOf(functionOf("/WholeSite/Shuffle/Resource"));
  expectShape(`${name}'s environment`, Object.keys(own).sort(), [
    "BUCKET_NAME",
    "SITE_CONFIG",
    "STATE_MACHINE_ARN",
  ]);
  expectShape(`${name}'s STATE_MACHINE_ARN`, own.STATE_MACHINE_ARN, { Ref: machine.logicalId });
  expectShape(`${name}'s BUCKET_NAME`, own.BUCKET_NAME, stage.BUCKET_NAME);
  expectShape(`${name}'s SITE_CONFIG`, own.SITE_CONFIG, stage.SITE_CONFIG);
  return {
    bundle: join(outDir, asset, "index.js"),
    environment: {
      BUCKET_NAME: machine.shuffle.environment.BUCKET_NAME ?? "",
      SITE_CONFIG: machine.shuffle.environment.SITE_CONFIG ?? "",
      STATE_MACHINE_ARN: stateMachineArn,
    },
  };
}
