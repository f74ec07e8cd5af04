import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isValidObjectId, Model } from 'mongoose';
import { AppException } from '../common/errors/app.exception';
import { ErrorCode } from '../common/errors/error-codes';
import type { AuthenticatedUser } from '../sessions/auth-state';
import { PasswordHasher } from './password-hasher';
import { passwordProblem } from './password-policy';
import { User, UserDocument, UserRole } from './user.schema';

export interface NewUser {
  email: string;
  password: string;
  name?: string;
  role?: UserRole;
}

const DUPLICATE_KEY = 11000;

export function toAuthenticatedUser(user: Pick<UserDocument, 'id' | 'email' | 'name' | 'role'>): AuthenticatedUser {
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

@Injectable()
export class UsersService {
  constructor(
    @InjectModel(User.name) private readonly users: Model<User>,
    private readonly hasher: PasswordHasher,
  ) {}

  findById(id: string): Promise<UserDocument | null> {
    return isValidObjectId(id) ? this.users.findById(id).exec() : Promise.resolve(null);
  }

  findByEmailWithPasswordHash(email: string): Promise<UserDocument | null> {
    return this.users.findOne({ email: email.trim().toLowerCase() }).select('+passwordHash').exec();
  }

  async adminExists(): Promise<boolean> {
    return (await this.users.exists({ role: 'admin' })) !== null;
  }

  async emailExists(email: string): Promise<boolean> {
    return (await this.users.exists({ email: email.trim().toLowerCase() })) !== null;
  }

  /** Refuses a weak password or a taken email with VAL_2001 naming the field. */
  async create(input: NewUser): Promise<UserDocument> {
    const problem = passwordProblem(input.password, input.email);
    if (problem) throw new AppException(ErrorCode.INVALID_INPUT, { fields: { password: problem } });
    try {
      return await this.users.create({
        email: input.email,
        name: input.name ?? '',
        role: input.role ?? 'user',
        passwordHash: await this.hasher.hash(input.password),
      });
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) {
        throw new AppException(ErrorCode.INVALID_INPUT, { fields: { email: 'is already registered' } });
      }
      throw error;
    }
  }
}
