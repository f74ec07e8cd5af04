import { IsBoolean, IsOptional, validateSync } from 'class-validator';
import { MayBeAbsent } from './may-be-absent.decorator';

class Sut {
  @MayBeAbsent()
  @IsBoolean()
  flag?: unknown;
}

class WithIsOptional {
  @IsOptional()
  @IsBoolean()
  flag?: unknown;
}

function problems(target: object, flag: unknown): string[] {
  return validateSync(Object.assign(target, flag === undefined ? {} : { flag })).map((error) => error.property);
}

describe('MayBeAbsent', () => {
  it('lets an absent field through', () => {
    expect(problems(new Sut(), undefined)).toEqual([]);
  });

  it('validates a present field', () => {
    expect(problems(new Sut(), true)).toEqual([]);
    expect(problems(new Sut(), 'yes')).toEqual(['flag']);
  });

  it('refuses null, which @IsOptional lets through', () => {
    expect(problems(new WithIsOptional(), null)).toEqual([]);
    expect(problems(new Sut(), null)).toEqual(['flag']);
  });
});
