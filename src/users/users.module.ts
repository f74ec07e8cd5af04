import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AccountRolesLock } from './account-roles.lock';
import { DEFAULT_PASSWORD_HASH_OPTIONS, PASSWORD_HASH_OPTIONS, PasswordHasher } from './password-hasher';
import { User, UserSchema } from './user.schema';
import { UsersService } from './users.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: User.name, schema: UserSchema }])],
  providers: [UsersService, AccountRolesLock, PasswordHasher, { provide: PASSWORD_HASH_OPTIONS, useValue: DEFAULT_PASSWORD_HASH_OPTIONS }],
  exports: [UsersService, AccountRolesLock, PasswordHasher],
})
export class UsersModule {}
