import { ServiceError } from '../model/errors.js';
import { invalidPatternMessage, parsePattern, PatternError, type Node } from './pattern/pattern.js';

/** A pattern's text parsed, or InvalidEventPatternException with EventBridge's wording. */
export function checkedPattern(text: string): Node {
  try {
    return parsePattern(text);
  } catch (error) {
    if (error instanceof PatternError) throw new ServiceError('InvalidEventPatternException', invalidPatternMessage(error.message));
    throw error;
  }
}
