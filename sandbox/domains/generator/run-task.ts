import { HOUSE_TASKS, PERSON_TASKS, type CityPlan } from './city-plan.ts';
import { PersonGenerator } from './city.generator.ts';
import { emptyTruth, type TruthPartial } from './ground-truth.ts';
import { generateHouses } from './house.generator.ts';
import { RowWriter, type ChunkSink } from './tables.ts';

/** A unit of generation work: the persons of one person task, or the houses of one house task. */
export type TaskRef = { kind: 'persons'; task: number } | { kind: 'houses'; task: number };

export interface TaskResult {
  ref: TaskRef;
  rows: number[];
  digests: string[];
  truth: TruthPartial;
}

/** Every task of a city, in canonical order (the order of the content hash). */
export function allTasks(): TaskRef[] {
  return [
    ...Array.from({ length: PERSON_TASKS }, (_, task) => ({ kind: 'persons' as const, task })),
    ...Array.from({ length: HOUSE_TASKS }, (_, task) => ({ kind: 'houses' as const, task })),
  ];
}

export const taskOrdinal = (ref: TaskRef) => (ref.kind === 'persons' ? ref.task : PERSON_TASKS + ref.task);

/**
 * Runs one task, handing encoded rows to `sink` as they are produced; `progress` receives the
 * number of persons just finished (and may pause generation by returning a promise).
 */
export async function runTask(plan: CityPlan, ref: TaskRef, sink: ChunkSink, progress: (persons: number) => Promise<void> | void, generator?: PersonGenerator): Promise<TaskResult> {
  const truth = emptyTruth(plan);
  const writer = new RowWriter(sink);
  if (ref.kind === 'persons') {
    const gen = generator ?? new PersonGenerator(plan, writer, truth);
    gen.bind(writer, truth);
    await gen.run(ref.task, progress);
  } else {
    await generateHouses(plan, ref.task, writer, truth, () => progress(0));
  }
  const { rows, digests } = writer.finish();
  return { ref, rows, digests, truth };
}
