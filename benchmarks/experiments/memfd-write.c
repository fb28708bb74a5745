/*
 * An experiment, not part of mseal4j (which is pure Java): how much of building an immutable map is the kernel
 * providing its pages, and how much a different way of filling the memfd would save. For `pages` pages, `reps`
 * times each, interleaved, timing only the filling (never the unmapping):
 *   0. what SealedMap.build() does today: memfd, shared writable mapping, MADV_POPULATE_WRITE, write, replace
 *      it by a PROT_NONE placeholder, file seals, shared read-only mapping with MAP_POPULATE;
 *   1. pwrite the bytes into the memfd, file seals, shared read-only mapping with MAP_POPULATE;
 *   2. the same as 1 without MAP_POPULATE (lookups then fault the pages in);
 *   3. anonymous memory: mapping, MADV_POPULATE_WRITE, write, mprotect read-only.
 * mseal is left out: it costs the same in all four. Build and run:
 *   gcc -O2 -o /tmp/memfd-write benchmarks/experiments/memfd-write.c
 *   for p in 26 256 2600; do /tmp/memfd-write $p 600; done
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>
#include <time.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 8
#endif
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e6+t.tv_nsec/1e3;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
#define SEALS (F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL)
int main(int argc,char**argv){
  if(argc!=3){fprintf(stderr,"usage: memfd-write pages reps\n");return 2;}
  long pages=atol(argv[1]); int reps=atoi(argv[2]); long ps=4096, size=pages*ps;
  char*src=malloc(size); for(long i=0;i<size;i++) src[i]=(char)(i*31);
  double *t[4]; for(int k=0;k<4;k++) t[k]=malloc(sizeof(double)*reps);
  for(int r=0;r<reps;r++){
    for(int k=0;k<4;k++){
      int mode=(r+k)%4; /* interleave */
      double s=now(); void*ro=0; int fd=-1;
      if(mode==0){ /* current: writable shared map, populate, write, placeholder, seals, RO map */
        fd=memfd_create("x",MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_NOEXEC_SEAL);
        ftruncate(fd,size);
        char*w=mmap(0,size,PROT_READ|PROT_WRITE,MAP_SHARED,fd,0);
        madvise(w,size,MADV_POPULATE_WRITE);
        memcpy(w,src,size);
        mmap(w,size,PROT_NONE,MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED|MAP_NORESERVE,-1,0);
        if(fcntl(fd,F_ADD_SEALS,SEALS)) perror("seal0");
        ro=mmap(w,size,PROT_READ,MAP_SHARED|MAP_FIXED|MAP_POPULATE,fd,0);
        close(fd);
      } else if(mode==1){ /* pwrite */
        fd=memfd_create("x",MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_NOEXEC_SEAL);
        ftruncate(fd,size);
        long off=0; while(off<size){ssize_t n=pwrite(fd,src+off,size-off,off); if(n<=0){perror("pwrite");exit(1);} off+=n;}
        if(fcntl(fd,F_ADD_SEALS,SEALS)) perror("seal1");
        ro=mmap(0,size,PROT_READ,MAP_SHARED|MAP_POPULATE,fd,0);
        close(fd);
      } else if(mode==2){ /* pwrite, RO map without populate */
        fd=memfd_create("x",MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_NOEXEC_SEAL);
        ftruncate(fd,size);
        long off=0; while(off<size){ssize_t n=pwrite(fd,src+off,size-off,off); if(n<=0){perror("pwrite");exit(1);} off+=n;}
        if(fcntl(fd,F_ADD_SEALS,SEALS)) perror("seal2");
        ro=mmap(0,size,PROT_READ,MAP_SHARED,fd,0);
        close(fd);
      } else { /* anonymous */
        char*w=mmap(0,size,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
        madvise(w,size,MADV_POPULATE_WRITE);
        memcpy(w,src,size);
        mprotect(w,size,PROT_READ); ro=w;
      }
      double e=now();
      t[mode][r]=e-s;
      if(((char*)ro)[size-1]!=src[size-1]) {fprintf(stderr,"bad %d\n",mode);exit(1);}
      munmap(ro,size);
    }
  }
  const char*names[]={"current (populate+write+remap)","pwrite + RO MAP_POPULATE","pwrite + RO lazy","anonymous populate+write+mprotect"};
  for(int k=0;k<4;k++){qsort(t[k],reps,sizeof(double),cmp);printf("%5ld pages %-36s median %8.1f us  p25 %8.1f p75 %8.1f\n",pages,names[k],t[k][reps/2],t[k][reps/4],t[k][3*reps/4]);}
}
