"""Operations that change data. They flush and never commit: the caller owns the transaction."""
