/** The leftover sweep in a process of its own, as a worker in another pid namespace runs it. Env: LBC_JOBS_DIR. Prints the count removed. */
import Dockerode from 'dockerode';
import { removeLeftovers } from '../src/sandbox/leftovers.ts';

process.stdout.write(`${await removeLeftovers(new Dockerode(), process.env.LBC_JOBS_DIR!)}\n`);
