export * from './queue-driver.ts';
export { InlineQueue } from './inline.queue.ts';
export { BullQueue } from './bullmq.queue.ts';
