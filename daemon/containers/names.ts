// Container names: Docker's validity rule, and generated adjective_surname names.
import { randomInt } from 'crypto';

const VALID = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function validName(name: string): boolean {
  return VALID.test(name);
}

const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'bold', 'brave', 'busy', 'clever', 'cool', 'dazzling', 'eager',
  'ecstatic', 'elegant', 'epic', 'fervent', 'festive', 'focused', 'friendly', 'gallant', 'gifted', 'happy',
  'hopeful', 'jolly', 'keen', 'kind', 'lucid', 'modest', 'nifty', 'nostalgic', 'optimistic', 'peaceful',
  'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'sweet', 'tender', 'trusting', 'vibrant', 'zealous',
];

// Scientists and engineers, as Docker's generator uses.
const SURNAMES = [
  'agnesi', 'babbage', 'bardeen', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'faraday',
  'fermi', 'feynman', 'galileo', 'gauss', 'goldberg', 'hamilton', 'hopper', 'hypatia', 'johnson', 'kepler',
  'knuth', 'lamarr', 'lovelace', 'maxwell', 'meitner', 'newton', 'noether', 'pascal', 'ritchie', 'shannon',
  'thompson', 'torvalds', 'turing', 'wozniak', 'yalow',
];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    let name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
    if (attempt > 10) name += randomInt(10);
    if (!taken(name)) return name;
  }
}
