import type { Session } from './session.js';

/** What every view gets: the signed-in client and where to draw. */
export interface AppContext {
  session: Session;
  root: HTMLElement;
  navigate(hash: string): void;
}

/** A view draws into ctx.root and returns its cleanup (stop timers, close live stores). */
export type View = (ctx: AppContext, params: string[]) => Promise<(() => void) | void> | (() => void) | void;
