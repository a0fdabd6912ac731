// `--client-addresses`: one IPv4 block every segment shares (segments on one machine), or one
// block per segment in segment order (the addresses of the machine each segment runs on). Every
// segment white-lists every block and every segment's application, so segments on different
// machines attached to one lab set the same white list and agree, as segments of one machine do.
import { AddressPlan, AddressPlanError } from '../simulators/client/addresses.ts';
import type { Segment } from '../evidence/perf/summary-schema.ts';

export class ClientBlocks {
  /** Canonical blocks: one shared, or one per segment. */
  readonly blocks: readonly string[];
  readonly segment: Segment;
  /** The block this segment's clients bind. */
  readonly own: AddressPlan;
  readonly #plans: readonly AddressPlan[];

  private constructor(blocks: string[], segment: Segment) {
    if (blocks.length !== 1 && blocks.length !== segment.count) {
      throw new AddressPlanError(`${blocks.length} blocks for ${segment.count} segment${segment.count === 1 ? '' : 's'}: give one block all segments share, or one per segment in segment order`);
    }
    this.blocks = blocks;
    this.segment = segment;
    // A shared block keeps the top address of each segment's application; a block of its own keeps one.
    this.#plans = blocks.map((b) => AddressPlan.fromCidr(b, { applications: blocks.length === 1 ? segment.count : 1 }));
    this.own = this.#plans[this.perSegment ? segment.index - 1 : 0]!;
  }

  /** Comma-separated blocks, each checked and made canonical; AddressPlanError names the bad one. */
  static canonical(text: string): string {
    const blocks = text.split(',').map((b) => AddressPlan.fromCidr(b.trim()).block!);
    if (new Set(blocks).size !== blocks.length) throw new AddressPlanError(`"${text}" names a block twice: each segment needs a block of its own`);
    return blocks.join(',');
  }

  static of(text: string, segment: Segment): ClientBlocks {
    return new ClientBlocks(ClientBlocks.canonical(text).split(','), segment);
  }

  get perSegment(): boolean {
    return this.blocks.length > 1;
  }

  /** What a device's global index is counted from in this segment's block: its first device when the block is its own. */
  deviceOffset(firstDevice: number): number {
    return this.perSegment ? firstDevice : 0;
  }

  /** Segment `index`'s (1-based) application address. */
  application(index: number): string {
    return this.perSegment ? this.#plans[index - 1]!.applicationAddress() : this.own.applicationAddress(0, index - 1);
  }

  /**
   * What this segment's challenge responder listens on: each address its `devices` devices and
   * its application bind, when the block is its own (another segment may use the same port of
   * this host); every address (0.0.0.0) when the block is shared.
   */
  listenOn(devices: number): string[] | undefined {
    if (!this.perSegment) return undefined;
    return [...new Set([...Array.from({ length: devices }, (_, i) => this.own.address(i)), this.application(this.segment.index)])];
  }

  /** The white-list entries of every segment's devices. */
  deviceRanges(): string[] {
    return this.#plans.map((p) => p.workerRange());
  }
}
