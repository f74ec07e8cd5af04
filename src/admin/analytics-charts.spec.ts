import { stackedBars } from './analytics-charts';

describe('stackedBars', () => {
  it('stacks the series of each row, scaled to the tallest row', () => {
    const sut = stackedBars(
      [
        { at: 'h1', a: 2, b: 2 },
        { at: 'h2', a: 1, b: 0 },
      ],
      ['a', 'b'] as const,
    );
    expect(sut.max).toBe(4);
    expect(sut.bars.map((bar) => [bar.series, bar.height, bar.y])).toEqual([
      ['a', 80, 80],
      ['b', 80, 0],
      ['a', 40, 120],
    ]);
    expect(sut.bars[2].label).toBe('h2: 1 a');
  });

  it('draws nothing for empty rows', () => {
    expect(stackedBars([{ at: 'h1', a: 0 }], ['a'] as const).bars).toEqual([]);
  });
});
