import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { RunStarter } from "../engine/whole/start.ts";

/**
 * Starts the whole-site state machine (STATE_MACHINE_ARN) for a run: the run id is the
 * execution's name, so a start repeated by a retried invocation starts nothing new.
 */
export function stateMachineStarter(env: NodeJS.ProcessEnv): RunStarter | undefined {
  const stateMachineArn = env.STATE_MACHINE_ARN;
  if (!stateMachineArn) return undefined;
  const client = new SFNClient({});
  return async (run) => {
    try {
      await client.send(
        new StartExecutionCommand({ stateMachineArn, name: run, input: JSON.stringify({ run }) }),
      );
    } catch (error) {
      if ((error as Error).name !== "ExecutionAlreadyExists") throw error;
    }
  };
}
