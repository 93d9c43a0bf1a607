// A BullMQ queue with a Worker, against the server on PORT: jobs added in
// bulk, with delays, priorities and retries, must all complete exactly once.
// BullMQ drives the server through Lua scripts (cmsgpack, undeclared job keys),
// blocking commands and streams. Prints one JSON line with what happened.
const { Queue, Worker, QueueEvents } = require('bullmq');

const port = Number(process.env.PORT);
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const JOBS = Number(process.env.JOBS || 200);

async function main() {
  const queue = new Queue('smoke', { connection });
  await queue.obliterate({ force: true }).catch(() => {});
  const events = new QueueEvents('smoke', { connection });
  await events.waitUntilReady();

  const seen = new Map();
  let failedOnce = 0;
  const worker = new Worker('smoke', async (job) => {
    if (job.data.flaky && job.attemptsMade === 0) {
      failedOnce++;
      throw new Error('first attempt fails');
    }
    seen.set(job.data.n, (seen.get(job.data.n) || 0) + 1);
    return { doubled: job.data.n * 2 };
  }, { connection, concurrency: 8 });

  const done = new Promise((resolve) => {
    let completed = 0;
    worker.on('completed', () => { if (++completed === JOBS) resolve(); });
  });

  const bulk = [];
  for (let n = 0; n < JOBS; n++) {
    const opts = { attempts: 3, backoff: { type: 'fixed', delay: 10 } };
    if (n % 10 === 0) opts.priority = 1 + (n % 3);
    if (n % 25 === 0) opts.delay = 50;
    bulk.push({ name: 'job', data: { n, flaky: n % 17 === 0 }, opts });
  }
  await queue.addBulk(bulk);

  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 120000));
  await Promise.race([done, timeout]);

  const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
  const sample = await queue.getJob((await queue.getCompleted(0, 0))[0].id);
  const result = {
    completed: counts.completed,
    failed: counts.failed,
    waiting: counts.waiting,
    active: counts.active,
    delayed: counts.delayed,
    distinct: seen.size,
    duplicates: [...seen.values()].filter((c) => c !== 1).length,
    retried: failedOnce,
    sampleReturn: sample.returnvalue,
  };
  await worker.close();
  await events.close();
  await queue.close();
  console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
