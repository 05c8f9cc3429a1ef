#include <cblas.h>

/* LAPACK's symmetric eigensolver (divide and conquer); Debian's libopenblas carries LAPACK. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);
